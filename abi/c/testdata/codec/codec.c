/*
 * The C SDK's value codec, exported for tests: codec_check decodes a
 * message with nic_decode and re-encodes its value with the nic_put_*
 * functions in the host's canonical form (dict keys in bytewise order of
 * their encoding, floats as abi.Marshal writes them), so that a Go test can
 * compare accept/reject and the bytes with the host's codec and the Go
 * SDK's. Not a driver: it registers none.
 */
#include <string.h>

#include "nic.h"

static uint8_t in[NIC_MAX_MESSAGE + 16];
static uint8_t out[NIC_MAX_MESSAGE + 16];
static size_t out_len;

/* One row of pairs per nesting level, for sorting a dict's keys. */
static struct pair {
	const char *key;
	size_t len;
	nic_val val;
} pairs[NIC_MAX_DEPTH][NIC_MAX_PAIRS];

static int less(const struct pair *a, const struct pair *b) {
	if (a->len != b->len)
		return a->len < b->len;
	return memcmp(a->key, b->key, a->len) < 0;
}

static void canon(nic_enc *e, nic_val v, int depth) {
	switch (nic_typeof(v)) {
	case NIC_NONE:
		nic_put_none(e);
		return;
	case NIC_BOOL:
		nic_put_bool(e, nic_bool(v));
		return;
	case NIC_INT:
		nic_put_int(e, nic_int(v));
		return;
	case NIC_FLOAT:
		nic_put_float(e, nic_float(v));
		return;
	case NIC_STR: {
		size_t n;
		const char *s = nic_str(v, &n);
		nic_put_strn(e, s, n);
		return;
	}
	case NIC_BYTES: {
		size_t n;
		const uint8_t *b = nic_bytes(v, &n);
		nic_put_bytes(e, b, n);
		return;
	}
	case NIC_LIST:
	case NIC_TUPLE: {
		size_t n = nic_len(v);
		if (nic_typeof(v) == NIC_TUPLE)
			nic_put_tuple(e, n);
		else
			nic_put_list(e, n);
		for (size_t i = 0; i < n; i++)
			canon(e, nic_item(v, i), depth + 1);
		return;
	}
	case NIC_DICT: {
		size_t n = nic_len(v);
		struct pair *row = pairs[depth];
		for (size_t i = 0; i < n; i++) {
			row[i].key = nic_str(nic_key_at(v, i), &row[i].len);
			row[i].val = nic_value_at(v, i);
		}
		for (size_t i = 1; i < n; i++) { /* insertion sort: n <= 1024 */
			struct pair p = row[i];
			size_t j = i;
			for (; j > 0 && less(&p, &row[j - 1]); j--)
				row[j] = row[j - 1];
			row[j] = p;
		}
		nic_put_dict(e, n);
		for (size_t i = 0; i < n; i++) {
			nic_put_strn(e, row[i].key, row[i].len);
			canon(e, row[i].val, depth + 1);
		}
		return;
	}
	case NIC_ABSENT:
		return;
	}
}

__attribute__((export_name("codec_in"))) uint8_t *codec_in(void) { return in; }
__attribute__((export_name("codec_out"))) uint8_t *codec_out(void) { return out; }
__attribute__((export_name("codec_out_len"))) int32_t codec_out_len(void) { return (int32_t)out_len; }

/* codec_check: 1 accepted (out holds the canonical re-encoding), 0 refused
 * (out holds the error), 2 accepted but the re-encoding failed (out holds
 * why: past the size limit). */
__attribute__((export_name("codec_check"))) int32_t codec_check(int32_t len) {
	nic_val v;
	if (nic_decode(in, (size_t)len, &v, (char *)out, sizeof out) < 0) {
		out_len = strlen((char *)out);
		return 0;
	}
	nic_enc e;
	nic_enc_init(&e, out, NIC_MAX_MESSAGE);
	canon(&e, v, 0);
	if (e.err != NULL) {
		out_len = strlen(e.err);
		memmove(out, e.err, out_len);
		return 2;
	}
	out_len = e.len;
	return 1;
}
