/*
 * nic.c: nichost's C SDK for driver plugins, ABI 1.1. See nic.h for the
 * driver's side and abi/ABI.md for the contract this file implements:
 * every export of §4, the value codec of §3, the frame records of §5.
 */
#include "nic.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT(name) __attribute__((export_name(name)))

/* Imports nic.c uses itself; nic.h declares the ones a driver calls. */
NIC_IMPORT("args") int32_t nic_host_args(void *ptr, int32_t cap);
NIC_IMPORT("reply") int32_t nic_host_reply(const void *ptr, int32_t len);
NIC_IMPORT("raise") int32_t nic_host_raise(int32_t kind, int32_t errno_, const void *ptr, int32_t len);
NIC_IMPORT("log") int32_t nic_host_log(int32_t level, const void *ptr, int32_t len);
NIC_IMPORT("tx_buffer") int32_t nic_host_tx_buffer(void *ptr, int32_t cap);
NIC_IMPORT("rx_push") int32_t nic_host_rx_push(int32_t iface, const void *ptr, int32_t len);
NIC_IMPORT("rx_push_batch") int32_t nic_host_rx_push_batch(int32_t iface, const void *ptr, int32_t len);

_Static_assert(sizeof(nic_spi_op) == 20, "an SPI operation record is five u32 (wasm32)");

#define TAG_TUPLE 32870u
#define MAX_IFACES 8
#define RX_BATCH_BYTES 65536

/* ------------------------------------------------------------------ */
/* CBOR heads and UTF-8                                                */
/* ------------------------------------------------------------------ */

enum { HEAD_OK, HEAD_SHORT, HEAD_INDEFINITE, HEAD_RESERVED };

/* Reads the head at p (end bounds it): major type, additional info and
 * argument; *next is the first byte after it. */
static int read_head(const uint8_t *p, const uint8_t *end, int *major, int *info, uint64_t *arg, const uint8_t **next) {
	if (p >= end)
		return HEAD_SHORT;
	*major = p[0] >> 5;
	*info = p[0] & 0x1f;
	p++;
	if (*info < 24) {
		*arg = (uint64_t)*info;
	} else if (*info <= 27) {
		size_t n = (size_t)1 << (*info - 24);
		if ((size_t)(end - p) < n)
			return HEAD_SHORT;
		uint64_t v = 0;
		for (size_t i = 0; i < n; i++)
			v = v << 8 | p[i];
		*arg = v;
		p += n;
	} else if (*info == 31) {
		return HEAD_INDEFINITE;
	} else {
		return HEAD_RESERVED;
	}
	*next = p;
	return HEAD_OK;
}

/* The head of an item of a checked message: cannot fail, and reads only
 * the head's own bytes, which the check found in the message. (Bounding it
 * with read_head(p, p + 9) would form a pointer past the end of the
 * message's buffer, which C leaves undefined.) */
static const uint8_t *head(const uint8_t *p, int *major, int *info, uint64_t *arg) {
	*major = p[0] >> 5;
	*info = p[0] & 0x1f;
	*arg = (uint64_t)*info;
	p++;
	if (*info >= 24 && *info <= 27) {
		size_t n = (size_t)1 << (*info - 24);
		uint64_t v = 0;
		for (size_t i = 0; i < n; i++)
			v = v << 8 | p[i];
		*arg = v;
		p += n;
	}
	return p;
}

/* Go's utf8.Valid: no overlong forms, no surrogates, nothing past U+10FFFF. */
static bool valid_utf8(const uint8_t *s, size_t n) {
	size_t i = 0;
	while (i < n) {
		uint8_t c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t need;
		uint8_t lo = 0x80, hi = 0xbf;
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			if (c == 0xe0)
				lo = 0xa0;
			if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			if (c == 0xf0)
				lo = 0x90;
			if (c == 0xf4)
				hi = 0x8f;
		} else {
			return false;
		}
		if (n - i - 1 < need)
			return false;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k <= need; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return false;
		i += need + 1;
	}
	return true;
}

/* utf8_cut is how much of s[:n], the first n bytes of a longer text, to
 * keep so that the cut does not end inside a UTF-8 sequence: n, or the
 * start of a sequence the cut left incomplete. Invalid bytes elsewhere are
 * left alone (the host shows them as U+FFFD); only the cut's own damage is
 * undone, so a message keeps everything before it. */
static size_t utf8_cut(const char *s, size_t n) {
	size_t i = n;
	while (i > 0 && n - i < 3 && ((uint8_t)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0)
		return n;
	uint8_t c = (uint8_t)s[i - 1];
	size_t want = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	return n - (i - 1) < want ? i - 1 : n;
}

/* cut_len is the length vsnprintf-style output keeps in a buffer of cap
 * bytes, given what it returned (r, negative on an error): all of it, or
 * what fits, cut on a UTF-8 boundary. */
static size_t cut_len(const char *s, int r, size_t cap) {
	if (r < 0 || cap == 0)
		return 0;
	if ((size_t)r < cap)
		return (size_t)r;
	return utf8_cut(s, cap - 1);
}

/* ------------------------------------------------------------------ */
/* Checking a message (ABI.md §3)                                      */
/* ------------------------------------------------------------------ */

typedef struct {
	const uint8_t *key; /* NULL: a list index */
	size_t len;         /* the key's length, or the index */
} path_seg;

typedef struct {
	const uint8_t *p, *end;
	int depth;
	path_seg segs[NIC_MAX_DEPTH];
	char *err;
	size_t errcap;
} checker;

/* The keys of the dicts being checked, one row per level, for the
 * duplicate check: sorted once a dict is read, so that a message of 64
 * KiB of dicts costs O(n log n) comparisons, not the O(n^2) of comparing
 * each key with those before it (15 dicts of 1024 pairs took 300 ms that
 * way, a sixth of a call's deadline). */
typedef struct {
	const uint8_t *p;
	uint32_t n;
} key_ref;
static key_ref seen_keys[NIC_MAX_DEPTH][NIC_MAX_PAIRS];

static int key_cmp(const void *a, const void *b) {
	const key_ref *x = a, *y = b;
	if (x->n != y->n)
		return x->n < y->n ? -1 : 1;
	return x->n == 0 ? 0 : memcmp(x->p, y->p, x->n);
}

static int fail(checker *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* fail writes "invalid value encoding: PATH: what" and returns -1. */
static int fail(checker *c, const char *fmt, ...) {
	if (c->err == NULL || c->errcap == 0)
		return -1;
	size_t n = (size_t)snprintf(c->err, c->errcap, "invalid value encoding: value");
	for (int i = 0; i < c->depth && n < c->errcap; i++) {
		path_seg s = c->segs[i];
		if (s.key == NULL)
			n += (size_t)snprintf(c->err + n, c->errcap - n, "[%zu]", s.len);
		else
			n += (size_t)snprintf(c->err + n, c->errcap - n, ".%.*s", (int)s.len, (const char *)s.key);
	}
	if (n < c->errcap)
		n += (size_t)snprintf(c->err + n, c->errcap - n, ": ");
	if (n < c->errcap) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errcap - n, fmt, ap);
		va_end(ap);
	}
	/* A short err may have cut the message (a key in the path, say)
	 * inside a UTF-8 sequence. */
	size_t len = strlen(c->err);
	c->err[utf8_cut(c->err, len)] = 0;
	return -1;
}

static const char *item_name(uint8_t ib) {
	switch (ib) {
	case 0xf4:
	case 0xf5:
		return "a bool";
	case 0xf6:
		return "null";
	case 0xf7:
		return "undefined";
	}
	static const char *const names[] = {"an int", "an int", "bytes", "a str", "a list", "a dict", "a tag", "a float or simple value"};
	return names[ib >> 5];
}

static int check_value(checker *c);

static int check_head(checker *c, int *major, int *info, uint64_t *arg) {
	uint8_t ib = c->p < c->end ? c->p[0] : 0;
	switch (read_head(c->p, c->end, major, info, arg, &c->p)) {
	case HEAD_OK:
		return 0;
	case HEAD_SHORT:
		return fail(c, "the message ends inside the value");
	case HEAD_INDEFINITE:
		if (*major >= 2 && *major <= 5)
			return fail(c, "indefinite-length items are not allowed");
	}
	return fail(c, "initial byte 0x%02x is not well-formed CBOR", ib);
}

static int check_text(checker *c, uint64_t n) {
	if (n > (uint64_t)(c->end - c->p))
		return fail(c, "the message ends inside the value");
	if (!valid_utf8(c->p, (size_t)n))
		return fail(c, "a str is not valid UTF-8");
	c->p += n;
	return 0;
}

/* enter counts one more container; the caller fills in the segment. */
static int enter(checker *c) {
	if (c->depth == NIC_MAX_DEPTH)
		return fail(c, "nests deeper than %d", NIC_MAX_DEPTH);
	c->depth++;
	return 0;
}

static int check_array(checker *c, uint64_t n) {
	if (n > NIC_MAX_ITEMS)
		return fail(c, "%llu items exceed the limit of %d", (unsigned long long)n, NIC_MAX_ITEMS);
	if (n > (uint64_t)(c->end - c->p))
		return fail(c, "the message ends inside the value");
	if (enter(c) < 0)
		return -1;
	path_seg *seg = &c->segs[c->depth - 1];
	for (uint64_t i = 0; i < n; i++) {
		seg->key = NULL;
		seg->len = (size_t)i;
		if (check_value(c) < 0)
			return -1;
	}
	c->depth--;
	return 0;
}

static int check_dict(checker *c, uint64_t n) {
	if (n > NIC_MAX_PAIRS)
		return fail(c, "%llu pairs exceed the limit of %d", (unsigned long long)n, NIC_MAX_PAIRS);
	if (n > (uint64_t)(c->end - c->p) / 2)
		return fail(c, "the message ends inside the value");
	if (enter(c) < 0)
		return -1;
	int level = c->depth - 1;
	path_seg *seg = &c->segs[level];
	for (uint64_t i = 0; i < n; i++) {
		c->depth--; /* an error in a key names the dict */
		const uint8_t *start = c->p;
		int major, info;
		uint64_t len;
		if (check_head(c, &major, &info, &len) < 0)
			return -1;
		if (major != 3)
			return fail(c, "key %llu is %s, not a str", (unsigned long long)i, item_name(start[0]));
		const uint8_t *key = c->p;
		if (check_text(c, len) < 0)
			return -1;
		seen_keys[level][i].p = key;
		seen_keys[level][i].n = (uint32_t)len;
		c->depth++;
		seg->key = key;
		seg->len = (size_t)len;
		if (check_value(c) < 0)
			return -1;
	}
	c->depth--; /* a key twice names the dict */
	key_ref *row = seen_keys[level];
	if (n > 1)
		qsort(row, (size_t)n, sizeof row[0], key_cmp);
	for (size_t i = 1; i < (size_t)n; i++)
		if (key_cmp(&row[i - 1], &row[i]) == 0)
			return fail(c, "key \"%.*s\" appears twice", (int)row[i].n, (const char *)row[i].p);
	return 0;
}

static int check_value(checker *c) {
	int major, info;
	uint64_t arg;
	if (check_head(c, &major, &info, &arg) < 0)
		return -1;
	switch (major) {
	case 0:
		if (arg > (uint64_t)INT64_MAX)
			return fail(c, "%llu does not fit a signed 64-bit int", (unsigned long long)arg);
		return 0;
	case 1:
		if (arg > (uint64_t)INT64_MAX)
			return fail(c, "-1-%llu does not fit a signed 64-bit int", (unsigned long long)arg);
		return 0;
	case 2:
		if (arg > (uint64_t)(c->end - c->p))
			return fail(c, "the message ends inside the value");
		c->p += arg;
		return 0;
	case 3:
		return check_text(c, arg);
	case 4:
		return check_array(c, arg);
	case 5:
		return check_dict(c, arg);
	case 6: {
		if (arg != TAG_TUPLE)
			return fail(c, "tag %llu is not part of the value model (only %u, a tuple)", (unsigned long long)arg, TAG_TUPLE);
		if (c->p >= c->end)
			return fail(c, "the message ends inside the value");
		if (c->p[0] >> 5 != 4)
			return fail(c, "tag %u must enclose an array", TAG_TUPLE);
		uint64_t n;
		if (check_head(c, &major, &info, &n) < 0)
			return -1;
		return check_array(c, n);
	}
	}
	switch (info) {
	case 20:
	case 21:
	case 22:
	case 25:
	case 26:
	case 27:
		return 0;
	case 24:
		return fail(c, "simple value %llu is not part of the value model", (unsigned long long)arg);
	}
	return fail(c, "simple value %d is not part of the value model", info);
}

int nic_decode(const uint8_t *msg, size_t len, nic_val *out, char *err, size_t errcap) {
	checker c = {.p = msg, .end = msg + len, .err = err, .errcap = errcap};
	if (err != NULL && errcap > 0)
		err[0] = 0;
	if (len > NIC_MAX_MESSAGE) {
		if (err != NULL && errcap > 0)
			snprintf(err, errcap, "invalid value encoding: message of %zu bytes exceeds the %d-byte limit", len, NIC_MAX_MESSAGE);
		return -1;
	}
	if (check_value(&c) < 0)
		return -1;
	if (c.p != c.end) {
		if (err != NULL && errcap > 0)
			snprintf(err, errcap, "invalid value encoding: %zu bytes after the value", (size_t)(c.end - c.p));
		return -1;
	}
	if (out != NULL)
		out->p = msg;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Reading checked values                                              */
/* ------------------------------------------------------------------ */

/* skip returns the first byte after the item at p. */
static const uint8_t *skip(const uint8_t *p) {
	int major, info;
	uint64_t arg;
	const uint8_t *q = head(p, &major, &info, &arg);
	switch (major) {
	case 2:
	case 3:
		return q + arg;
	case 4:
		for (uint64_t i = 0; i < arg; i++)
			q = skip(q);
		return q;
	case 5:
		for (uint64_t i = 0; i < 2 * arg; i++)
			q = skip(q);
		return q;
	case 6:
		return skip(q);
	}
	return q;
}

nic_type nic_typeof(nic_val v) {
	if (v.p == NULL)
		return NIC_ABSENT;
	switch (v.p[0] >> 5) {
	case 0:
	case 1:
		return NIC_INT;
	case 2:
		return NIC_BYTES;
	case 3:
		return NIC_STR;
	case 4:
		return NIC_LIST;
	case 5:
		return NIC_DICT;
	case 6:
		return NIC_TUPLE;
	}
	switch (v.p[0]) {
	case 0xf4:
	case 0xf5:
		return NIC_BOOL;
	case 0xf6:
		return NIC_NONE;
	}
	return NIC_FLOAT;
}

const char *nic_type_name(nic_type t) {
	static const char *const names[] = {"nothing", "NoneType", "bool", "int", "float", "str", "bytes", "list", "tuple", "dict"};
	return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

bool nic_is(nic_val v, nic_type t) { return nic_typeof(v) == t; }

bool nic_bool(nic_val v) { return nic_typeof(v) == NIC_BOOL && v.p[0] == 0xf5; }

int64_t nic_int(nic_val v) {
	if (nic_typeof(v) != NIC_INT)
		return 0;
	int major, info;
	uint64_t arg;
	head(v.p, &major, &info, &arg);
	return major == 0 ? (int64_t)arg : -1 - (int64_t)arg;
}

static double half_to_double(uint16_t h) {
	int exp = h >> 10 & 0x1f;
	double frac = h & 0x3ff, f;
	if (exp == 0)
		f = frac / 16777216.0; /* 2^-24 */
	else if (exp == 0x1f)
		f = frac == 0 ? __builtin_inf() : __builtin_nan("");
	else
		f = __builtin_ldexp(frac + 1024, exp - 25);
	return (h & 0x8000) ? -f : f;
}

double nic_float(nic_val v) {
	if (nic_typeof(v) != NIC_FLOAT)
		return 0;
	int major, info;
	uint64_t arg;
	head(v.p, &major, &info, &arg);
	if (info == 25)
		return half_to_double((uint16_t)arg);
	if (info == 26) {
		uint32_t u = (uint32_t)arg;
		float f;
		memcpy(&f, &u, sizeof f);
		return f;
	}
	double d;
	memcpy(&d, &arg, sizeof d);
	return d;
}

static const uint8_t *string_bytes(nic_val v, int want, size_t *len) {
	int major, info;
	uint64_t arg;
	if (v.p == NULL || v.p[0] >> 5 != want) {
		if (len)
			*len = 0;
		return NULL;
	}
	const uint8_t *q = head(v.p, &major, &info, &arg);
	if (len)
		*len = (size_t)arg;
	return q;
}

const char *nic_str(nic_val v, size_t *len) { return (const char *)string_bytes(v, 3, len); }
const uint8_t *nic_bytes(nic_val v, size_t *len) { return string_bytes(v, 2, len); }

bool nic_str_is(nic_val v, const char *s) {
	size_t n;
	const char *p = nic_str(v, &n);
	return p != NULL && n == strlen(s) && memcmp(p, s, n) == 0;
}

/* The first item (or key) of a container, and its count. */
static const uint8_t *items(nic_val v, uint64_t *n) {
	int major, info;
	*n = 0;
	if (v.p == NULL)
		return NULL;
	const uint8_t *q = head(v.p, &major, &info, n);
	if (major == 6)
		q = head(q, &major, &info, n);
	if (major != 4 && major != 5) {
		*n = 0;
		return NULL;
	}
	return q;
}

size_t nic_len(nic_val v) {
	uint64_t n;
	items(v, &n);
	return (size_t)n;
}

nic_val nic_item(nic_val list, size_t i) {
	nic_type t = nic_typeof(list);
	uint64_t n;
	const uint8_t *q = items(list, &n);
	if ((t != NIC_LIST && t != NIC_TUPLE) || i >= n)
		return (nic_val){0};
	while (i--)
		q = skip(q);
	return (nic_val){q};
}

nic_val nic_key_at(nic_val dict, size_t i) {
	uint64_t n;
	const uint8_t *q = items(dict, &n);
	if (nic_typeof(dict) != NIC_DICT || i >= n)
		return (nic_val){0};
	for (size_t k = 0; k < 2 * i; k++)
		q = skip(q);
	return (nic_val){q};
}

nic_val nic_value_at(nic_val dict, size_t i) {
	nic_val k = nic_key_at(dict, i);
	return k.p == NULL ? k : (nic_val){skip(k.p)};
}

nic_val nic_get(nic_val dict, const char *key) {
	uint64_t n;
	const uint8_t *q = items(dict, &n);
	if (nic_typeof(dict) != NIC_DICT)
		return (nic_val){0};
	for (uint64_t i = 0; i < n; i++) {
		nic_val k = {q};
		q = skip(q);
		if (nic_str_is(k, key))
			return (nic_val){q};
		q = skip(q);
	}
	return (nic_val){0};
}

static int expected(const char *name, const char *want, nic_val v) {
	if (v.p == NULL) /* as the Go SDK's Arg says of a missing one */
		return nic_type_error("missing argument %s", name);
	return nic_type_error("%s: expected %s, got %s", name, want, nic_type_name(nic_typeof(v)));
}

int nic_want_int(nic_val v, const char *name, int64_t *out) {
	if (nic_typeof(v) != NIC_INT)
		return expected(name, "int", v);
	*out = nic_int(v);
	return 0;
}

int nic_want_bool(nic_val v, const char *name, bool *out) {
	if (nic_typeof(v) != NIC_BOOL)
		return expected(name, "bool", v);
	*out = nic_bool(v);
	return 0;
}

int nic_want_str(nic_val v, const char *name, char *buf, size_t cap) {
	size_t n;
	const char *s = nic_str(v, &n);
	if (s == NULL)
		return expected(name, "str", v);
	if (cap == 0)
		return nic_value_error("%s: no room for a str (nic_want_str with cap 0)", name);
	if (n >= cap)
		return nic_value_error("%s: a str of %zu bytes is longer than the %zu this driver takes", name, n, cap - 1);
	if (memchr(s, 0, n) != NULL)
		return nic_value_error("%s: the str holds a NUL character", name);
	memcpy(buf, s, n);
	buf[n] = 0;
	return 0;
}

int nic_want_bytes(nic_val v, const char *name, const uint8_t **out, size_t *len) {
	const uint8_t *b = nic_bytes(v, len);
	if (b == NULL)
		return expected(name, "bytes", v);
	*out = b;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Encoding                                                            */
/* ------------------------------------------------------------------ */

void nic_enc_init(nic_enc *e, uint8_t *buf, size_t cap) {
	e->buf = buf;
	e->len = 0;
	e->cap = cap > NIC_MAX_MESSAGE ? NIC_MAX_MESSAGE : cap;
	e->err = NULL;
}

static bool room(nic_enc *e, size_t n) {
	if (e->err != NULL)
		return false;
	if (e->cap - e->len < n) {
		e->err = "the value does not fit in the message (at most 65536 bytes)";
		return false;
	}
	return true;
}

static void put_head(nic_enc *e, int major, uint64_t arg) {
	uint8_t b[9];
	size_t n;
	uint8_t m = (uint8_t)(major << 5);
	if (arg < 24) {
		b[0] = m | (uint8_t)arg;
		n = 1;
	} else {
		int info = arg <= 0xff ? 24 : arg <= 0xffff ? 25 : arg <= 0xffffffffu ? 26 : 27;
		size_t k = (size_t)1 << (info - 24);
		b[0] = m | (uint8_t)info;
		for (size_t i = 0; i < k; i++)
			b[1 + i] = (uint8_t)(arg >> (8 * (k - 1 - i)));
		n = 1 + k;
	}
	if (room(e, n)) {
		memcpy(e->buf + e->len, b, n);
		e->len += n;
	}
}

static void put_raw(nic_enc *e, const void *p, size_t n) {
	if (n > 0 && room(e, n)) {
		memcpy(e->buf + e->len, p, n);
		e->len += n;
	}
}

void nic_put_none(nic_enc *e) { put_raw(e, "\xf6", 1); }
void nic_put_bool(nic_enc *e, bool b) { put_raw(e, b ? "\xf5" : "\xf4", 1); }

void nic_put_int(nic_enc *e, int64_t i) {
	if (i < 0)
		put_head(e, 1, (uint64_t)(-1 - i));
	else
		put_head(e, 0, (uint64_t)i);
}

/* Floats as the host writes them: 64-bit, NaN and the infinities as the
 * 16-bit f97e00, f97c00 and f9fc00. */
void nic_put_float(nic_enc *e, double f) {
	if (f != f) {
		put_raw(e, "\xf9\x7e\x00", 3);
	} else if (f == __builtin_inf()) {
		put_raw(e, "\xf9\x7c\x00", 3);
	} else if (f == -__builtin_inf()) {
		put_raw(e, "\xf9\xfc\x00", 3);
	} else {
		uint64_t u;
		memcpy(&u, &f, sizeof u);
		uint8_t b[9] = {0xfb};
		for (int i = 0; i < 8; i++)
			b[1 + i] = (uint8_t)(u >> (56 - 8 * i));
		put_raw(e, b, 9);
	}
}

void nic_put_strn(nic_enc *e, const char *s, size_t len) {
	if (!valid_utf8((const uint8_t *)s, len)) {
		if (e->err == NULL)
			e->err = "a str is not valid UTF-8";
		return;
	}
	put_head(e, 3, len);
	put_raw(e, s, len);
}

void nic_put_str(nic_enc *e, const char *s) {
	if (s == NULL) {
		if (e->err == NULL)
			e->err = "nic_put_str of NULL (a str is \"\" or a value, not NULL)";
		return;
	}
	nic_put_strn(e, s, strlen(s));
}

void nic_put_bytes(nic_enc *e, const void *b, size_t len) {
	put_head(e, 2, len);
	put_raw(e, b, len);
}

/* Containers over the value model's limits are refused when their head is
 * written, so the error says what is wrong rather than what the reply's
 * check finds. */
static bool fits(nic_enc *e, size_t n, size_t max, const char *why) {
	if (n <= max)
		return true;
	if (e->err == NULL)
		e->err = why;
	return false;
}

void nic_put_list(nic_enc *e, size_t items) {
	if (fits(e, items, NIC_MAX_ITEMS, "a list holds at most 4096 items"))
		put_head(e, 4, items);
}

void nic_put_tuple(nic_enc *e, size_t items) {
	if (!fits(e, items, NIC_MAX_ITEMS, "a tuple holds at most 4096 items"))
		return;
	put_raw(e, "\xd9\x80\x66", 3);
	put_head(e, 4, items);
}

void nic_put_dict(nic_enc *e, size_t pairs) {
	if (fits(e, pairs, NIC_MAX_PAIRS, "a dict holds at most 1024 pairs"))
		put_head(e, 5, pairs);
}

void nic_put_value(nic_enc *e, nic_val v) {
	if (v.p == NULL) {
		if (e->err == NULL)
			e->err = "no value to copy";
		return;
	}
	put_raw(e, v.p, (size_t)(skip(v.p) - v.p));
}

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

static struct {
	bool set;
	int kind, errno_;
	size_t len;
	char msg[NIC_MAX_ERROR + 1];
} pending;

static int set_error(int kind, int errno_, const char *fmt, va_list ap) {
	size_t off = 0;
	if (kind < NIC_VALUE_ERROR || kind > NIC_NOT_IMPLEMENTED) {
		/* raise with another kind breaks the ABI and gets the instance
		 * discarded: the driver's mistake becomes an OSError saying so. */
		off = cut_len(pending.msg, snprintf(pending.msg, sizeof pending.msg, "error kind %d is not a NIC_*_ERROR kind: ", kind), sizeof pending.msg);
		kind = NIC_OS_ERROR;
		errno_ = NIC_EIO;
	}
	/* A negated errno, as host functions return it (nic_os_error(rc,
	 * ...)), means the same errno: MicroPython's are positive. */
	if (errno_ < 0)
		errno_ = errno_ == INT_MIN ? NIC_EIO : -errno_;
	pending.set = true;
	pending.kind = kind;
	pending.errno_ = kind == NIC_OS_ERROR ? errno_ : 0;
	int n = vsnprintf(pending.msg + off, sizeof pending.msg - off, fmt, ap);
	pending.len = off + cut_len(pending.msg + off, n, sizeof pending.msg - off);
	return -1;
}

#define ERROR_FN(fn, kind)                             \
	int fn(const char *fmt, ...) {                     \
		va_list ap;                                    \
		va_start(ap, fmt);                             \
		set_error(kind, 0, fmt, ap);                   \
		va_end(ap);                                    \
		return -1;                                     \
	}
ERROR_FN(nic_value_error, NIC_VALUE_ERROR)
ERROR_FN(nic_type_error, NIC_TYPE_ERROR)
ERROR_FN(nic_not_implemented, NIC_NOT_IMPLEMENTED)

int nic_error(int kind, int errno_, const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	set_error(kind, errno_, fmt, ap);
	va_end(ap);
	return -1;
}

int nic_os_error(int errno_, const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	set_error(NIC_OS_ERROR, errno_, fmt, ap);
	va_end(ap);
	return -1;
}

const char *nic_errno_name(int e) {
	switch (e) {
	case NIC_EPERM:
		return "EPERM";
	case NIC_EIO:
		return "EIO";
	case NIC_E2BIG:
		return "E2BIG";
	case NIC_EBADF:
		return "EBADF";
	case NIC_EAGAIN:
		return "EAGAIN";
	case NIC_EFAULT:
		return "EFAULT";
	case NIC_ENODEV:
		return "ENODEV";
	case NIC_EINVAL:
		return "EINVAL";
	case NIC_EMSGSIZE:
		return "EMSGSIZE";
	case NIC_ENOTSUP:
		return "ENOTSUP";
	case NIC_ENOBUFS:
		return "ENOBUFS";
	case NIC_ETIMEDOUT:
		return "ETIMEDOUT";
	}
	static char buf[24];
	snprintf(buf, sizeof buf, "errno %d", e);
	return buf;
}

int nic_errno_error(const char *what, int32_t rc) {
	int e = rc < 0 && rc != INT32_MIN ? -rc : NIC_EIO;
	return nic_os_error(e, "%s: %s", what, nic_errno_name(e));
}

void nic_clear_error(void) { pending.set = false; }

/* ------------------------------------------------------------------ */
/* The log and traces                                                  */
/* ------------------------------------------------------------------ */

void nic_log(int level, const char *fmt, ...) {
	char line[NIC_MAX_ERROR + 1]; /* the host keeps 1024 bytes of a line */
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	nic_host_log(level, line, (int32_t)cut_len(line, n, sizeof line));
}

static void hex_bytes(char *out, const uint8_t *b, size_t n, const char *sep) {
	static const char hex[] = "0123456789abcdef";
	size_t k = 0, sl = strlen(sep);
	for (size_t i = 0; i < n; i++) {
		memcpy(out + k, sep, sl);
		k += sl;
		out[k++] = hex[b[i] >> 4];
		out[k++] = hex[b[i] & 15];
	}
	out[k] = 0;
}

void nic_log_frame(int64_t trace, const char *driver, const char *dir, const uint8_t *f, size_t len) {
	if (len < 14) {
		nic_log(NIC_LOG_DEBUG, "%s: %s %zu bytes (runt)", driver, dir, len);
		return;
	}
	char src[13], dst[13], data[128 * 3 + 8] = "";
	hex_bytes(src, f + 6, 6, "");
	hex_bytes(dst, f, 6, "");
	if (trace & NIC_TRACE_FULL) {
		memcpy(data, " data", 6);
		hex_bytes(data + 5, f, len < 128 ? len : 128, " ");
	}
	nic_log(NIC_LOG_DEBUG, "%s: %s %zu bytes %s > %s type %04x%s", driver, dir, len, src, dst, (unsigned)(f[12] << 8 | f[13]), data);
}

int nic_parse_trace(nic_val v, int64_t *out) {
	int64_t n;
	if (nic_want_int(v, "trace", &n) < 0)
		return -1;
	int64_t all = NIC_TRACE_EVENTS | NIC_TRACE_TX | NIC_TRACE_RX | NIC_TRACE_FULL;
	if (n < 0 || (n & ~all) != 0)
		return nic_value_error("trace: %lld is not a set of flags (1 events, 2 tx, 4 rx, 8 full data), or a file name for the host", (long long)n);
	*out = n;
	return 0;
}

int32_t nic_wake_after(int64_t ns) {
	if (ns < 0)
		return nic_wake_at(-1);
	int64_t now = nic_now();
	/* Signed overflow is undefined: a time past the clock's range is
	 * "never" anyway. */
	return nic_wake_at(now > 0 && ns > INT64_MAX - now ? INT64_MAX : now + ns);
}

/* ------------------------------------------------------------------ */
/* The driver, the start info and the buffers                          */
/* ------------------------------------------------------------------ */

static const nic_driver *drv;
static uint8_t arg_buf[NIC_MAX_MESSAGE];
static uint8_t reply_buf[NIC_MAX_MESSAGE];
static uint8_t start_buf[NIC_MAX_MESSAGE];
static uint8_t tx_buf[NIC_TX_BUFFER];
/* A str argument (a parameter or method name) as a C string. It comes from
 * a message of at most 64 KiB, so any name fits. */
static char name_buf[NIC_MAX_MESSAGE];

static struct {
	nic_val info, buses, options;
	int n_ifaces;
	uint8_t macs[MAX_IFACES][6];
	char hostname[64], country[8];
	int phy_mode;
	bool rx_batch;
} start;

/* Frames delivered and not yet pushed, per interface: frame records. */
static struct {
	uint8_t *buf;
	size_t len;
	int n;
} rxq[MAX_IFACES];

void nic_register(const nic_driver *d) { drv = d; }

int nic_no_method(const char *name) { return nic_not_implemented("%s has no method %s()", drv->class_name, name); }

int32_t nic_bus_handle(const char *name) {
	nic_val h = nic_get(start.buses, name);
	return nic_is(h, NIC_INT) ? (int32_t)nic_int(h) : -NIC_EBADF;
}

const uint8_t *nic_mac(int iface) { return iface >= 0 && iface < start.n_ifaces ? start.macs[iface] : NULL; }
nic_val nic_options(void) { return start.options; }
const char *nic_hostname(void) { return start.hostname; }
const char *nic_country(void) { return start.country; }
int nic_phy_mode(void) { return start.phy_mode; }
nic_val nic_start_info(void) { return start.info; }

bool nic_host_has(const char *feature) {
	nic_val f = nic_get(start.info, "features");
	for (size_t i = 0; i < nic_len(f); i++)
		if (nic_str_is(nic_item(f, i), feature))
			return true;
	return false;
}

static void copy_str(nic_val v, char *buf, size_t cap) {
	size_t n;
	const char *s = nic_str(v, &n);
	if (s == NULL)
		n = 0;
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, s ? s : "", n);
	buf[n] = 0;
}

static int32_t push_batch(int iface) {
	if (rxq[iface].n == 0)
		return 0;
	int32_t rc = nic_host_rx_push_batch(iface, rxq[iface].buf, (int32_t)rxq[iface].len);
	rxq[iface].len = 0;
	rxq[iface].n = 0;
	return rc < 0 ? rc : 0;
}

int32_t nic_deliver(int iface, const void *frame, size_t len) {
	if (len == 0 || len > NIC_MAX_FRAME)
		return len == 0 ? -NIC_EINVAL : -NIC_EMSGSIZE;
	if (start.rx_batch && iface >= 0 && iface < start.n_ifaces && rxq[iface].buf == NULL)
		rxq[iface].buf = malloc(RX_BATCH_BYTES + 4);
	if (!start.rx_batch || iface < 0 || iface >= start.n_ifaces || rxq[iface].buf == NULL) {
		/* One frame, one call: without the feature, for an interface
		 * the host does not have (it answers -ENODEV), or when there
		 * is no memory for a batch. */
		int32_t rc = nic_host_rx_push(iface, frame, (int32_t)len);
		return rc < 0 ? rc : 0;
	}
	/* A batch holds at most 256 records (rx_push_batch refuses more) and
	 * 64 KiB, as the Go SDK's: a frame that would take it past that goes
	 * into the next one. The buffer has 4 bytes more than 64 KiB so that a
	 * 65535-byte frame fits as a batch of one. */
	if (rxq[iface].n == NIC_MAX_RX_BATCH || (rxq[iface].n > 0 && rxq[iface].len + 4 + len > RX_BATCH_BYTES)) {
		int32_t rc = push_batch(iface);
		if (rc < 0)
			return rc;
	}
	uint8_t *p = rxq[iface].buf + rxq[iface].len;
	p[0] = (uint8_t)len;
	p[1] = (uint8_t)(len >> 8);
	p[2] = (uint8_t)(len >> 16);
	p[3] = (uint8_t)(len >> 24);
	memcpy(p + 4, frame, len);
	rxq[iface].len += 4 + len;
	rxq[iface].n++;
	return 0;
}

int32_t nic_flush(void) {
	int32_t first = 0;
	for (int i = 0; i < start.n_ifaces; i++) {
		int32_t rc = push_batch(i);
		if (rc < 0 && first == 0)
			first = rc;
	}
	return first;
}

/* ------------------------------------------------------------------ */
/* Exports (ABI.md §4)                                                 */
/* ------------------------------------------------------------------ */

/* done ends an export: batched frames go to the core, then the error (if
 * rc is not 0) is raised. */
static int32_t done(int rc) {
	int32_t frc = nic_flush();
	if (frc < 0)
		nic_log(NIC_LOG_WARN, "nic: frames lost: rx_push_batch: %s", nic_errno_name(-frc));
	if (rc == 0) {
		pending.set = false;
		return 0;
	}
	/* -1 reaches the host only with an error raised (ABI.md §2). */
	if (!pending.set && rc == -1)
		nic_os_error(NIC_EIO, "%s: the driver failed without saying why", drv ? drv->name : "nic");
	else if (!pending.set)
		nic_os_error(NIC_EIO, "%s: a callback returned %d (0, or -1 with an error)", drv ? drv->name : "nic", rc);
	nic_host_raise(pending.kind, pending.errno_, pending.msg, (int32_t)pending.len);
	pending.set = false;
	return -1;
}

/* count_hint explains the two checker errors a wrong count given to
 * nic_put_list, nic_put_tuple or nic_put_dict causes. */
static const char *count_hint(const char *err) {
	if (strstr(err, "the message ends inside the value") != NULL)
		return " (fewer values were written than a nic_put_list, nic_put_tuple or nic_put_dict count declared)";
	if (strstr(err, "bytes after the value") != NULL)
		return " (more values were written than a nic_put_list, nic_put_tuple or nic_put_dict count declared, or two values at the top)";
	return "";
}

/* finish replies with what the driver wrote to e (None if nothing), after
 * checking it is a value, or raises its error. what names the result in
 * that error ("driver result", "description"). */
static int32_t finish_as(int rc, nic_enc *e, const char *what) {
	if (rc == 0) {
		char err[512];
		if (e->err != NULL) {
			nic_os_error(NIC_EIO, "%s: %s: %s", drv->name, what, e->err);
			return done(-1);
		}
		if (e->len == 0)
			nic_put_none(e);
		if (nic_decode(e->buf, e->len, NULL, err, sizeof err) < 0) {
			nic_os_error(NIC_EIO, "%s: %s: %s%s", drv->name, what, err, count_hint(err));
			return done(-1);
		}
		nic_host_reply(e->buf, (int32_t)e->len);
	}
	return done(rc);
}

static int32_t finish(int rc, nic_enc *e) { return finish_as(rc, e, "driver result"); }

static int no_driver(void) {
	return nic_os_error(NIC_EIO, "no driver is registered: the plugin must call nic_register (NIC_REGISTER) from a constructor");
}

/* read_args fetches and checks the running call's arguments. */
static int read_args(nic_val *v) {
	int32_t n = nic_host_args(arg_buf, sizeof arg_buf);
	if (n < 0)
		return nic_errno_error("args", n);
	if ((size_t)n > sizeof arg_buf)
		return nic_value_error("arguments of %d bytes exceed the %d-byte limit", n, NIC_MAX_MESSAGE);
	char err[NIC_MAX_ERROR];
	if (nic_decode(arg_buf, (size_t)n, v, err, sizeof err) < 0)
		return nic_os_error(NIC_EIO, "%s", err); /* as the Go SDK raises it */
	return 0;
}

static int to_args(nic_val v, nic_args *a) {
	if (!nic_is(v, NIC_LIST) || nic_len(v) != 2)
		return nic_type_error("arguments must be [args, kwargs], got %s", nic_type_name(nic_typeof(v)));
	a->pos = nic_item(v, 0);
	a->kw = nic_item(v, 1);
	if (!nic_is(a->pos, NIC_LIST))
		return nic_type_error("positional arguments must be a list, got %s", nic_type_name(nic_typeof(a->pos)));
	if (!nic_is(a->kw, NIC_DICT))
		return nic_type_error("keyword arguments must be a map, got %s", nic_type_name(nic_typeof(a->kw)));
	return 0;
}

/* begin starts a control export: the driver, then the arguments. */
static int begin(nic_args *a, nic_enc *e) {
	nic_enc_init(e, reply_buf, sizeof reply_buf);
	if (drv == NULL)
		return no_driver();
	nic_val v;
	if (read_args(&v) < 0)
		return -1;
	return to_args(v, a);
}

int nic_takes(nic_args a, const char *method, size_t max_pos, const char *const *keywords) {
	size_t npos = nic_len(a.pos), nkw = nic_len(a.kw);
	bool any_kw = keywords != NULL && keywords[0] != NULL;
	if (max_pos == 0 && !any_kw) {
		if (npos + nkw != 0)
			return nic_type_error("%s() takes no arguments", method);
		return 0;
	}
	if (!any_kw && nkw > 0)
		return nic_type_error("%s() takes no keyword arguments", method);
	/* The first unexpected keyword in sorted order, as the Go SDK names it. */
	const char *bad = NULL;
	size_t bad_len = 0;
	for (size_t i = 0; i < nkw; i++) {
		size_t n;
		const char *k = nic_str(nic_key_at(a.kw, i), &n);
		bool known = false;
		for (const char *const *w = keywords; w && *w; w++)
			if (strlen(*w) == n && memcmp(*w, k, n) == 0)
				known = true;
		if (known)
			continue;
		if (bad == NULL || memcmp(k, bad, n < bad_len ? n : bad_len) < 0 ||
		    (memcmp(k, bad, n < bad_len ? n : bad_len) == 0 && n < bad_len)) {
			bad = k;
			bad_len = n;
		}
	}
	if (bad != NULL)
		return nic_type_error("%s() got an unexpected keyword argument '%.*s'", method, (int)bad_len, bad);
	if (npos > max_pos)
		return nic_type_error("%s() takes at most %zu argument%s, got %zu", method, max_pos, max_pos == 1 ? "" : "s", npos);
	return 0;
}

/* name_arg copies a str argument (a parameter or method name) into
 * name_buf: 0, or -1 with the TypeError of another type, or 1 for a name
 * that is no C string (it holds a NUL), which no driver knows. */
static int name_arg(nic_val v, const char *what) {
	if (!nic_is(v, NIC_STR))
		return expected(what, "str", v);
	size_t n;
	const char *s = nic_str(v, &n);
	if (n >= sizeof name_buf || memchr(s, 0, n) != NULL)
		return 1;
	memcpy(name_buf, s, n);
	name_buf[n] = 0;
	return 0;
}

/* shown is a name that name_arg refused, for a message: its first bytes,
 * NULs written \0, cut on a UTF-8 boundary. */
static const char *shown(nic_val v) {
	static char out[80];
	size_t n, k = 0, i = 0;
	const char *s = nic_str(v, &n);
	for (; i < n && k + 2 < sizeof out - 4; i++) {
		if (s[i] == 0) {
			out[k++] = '\\';
			out[k++] = '0';
		} else {
			out[k++] = s[i];
		}
	}
	if (i < n) {
		k = utf8_cut(out, k);
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k] = 0;
	return out;
}

static const char *required_missing(const nic_driver *d) {
	if (d->class_name == NULL)
		return "class_name";
	if (d->name == NULL)
		return "name";
	if (d->interfaces == NULL || d->interfaces[0] == NULL)
		return "interfaces";
	if (d->start == NULL)
		return "start";
	if (d->active == NULL)
		return "active";
	if (d->set_active == NULL)
		return "set_active";
	if (d->isconnected == NULL)
		return "isconnected";
	if (d->status == NULL)
		return "status";
	if (d->config_get == NULL)
		return "config_get";
	if (d->config_set == NULL)
		return "config_set";
	if (d->poll == NULL)
		return "poll";
	if (d->transmit == NULL)
		return "transmit";
	return NULL;
}

EXPORT("nic_abi_version") int32_t nic_export_abi_version(void) { return NIC_ABI_VERSION; }

EXPORT("nic_describe") int32_t nic_export_describe(void) {
	nic_enc e;
	nic_enc_init(&e, reply_buf, sizeof reply_buf);
	if (drv == NULL)
		return done(no_driver());
	const char *missing = required_missing(drv);
	if (missing != NULL)
		return done(nic_value_error("driver %s: the nic_driver's .%s is NULL, and it is required", drv->name ? drv->name : "?", missing));
	/* The lists end with NULL ({0} for buses). A list far longer than any
	 * description allows has lost its terminator: say so rather than read
	 * on through memory. */
	size_t keys = 5, n_if = 0, n_bus = 0, n_feat = 0;
	enum { LIST_GUARD = 64 };
	while (n_if < LIST_GUARD && drv->interfaces[n_if])
		n_if++;
	while (drv->buses && n_bus < LIST_GUARD && drv->buses[n_bus].name)
		n_bus++;
	while (drv->features && n_feat < LIST_GUARD && drv->features[n_feat])
		n_feat++;
	if (n_if == LIST_GUARD || n_bus == LIST_GUARD || n_feat == LIST_GUARD)
		return done(nic_value_error("driver %s: the nic_driver's .%s list has %d entries or more: does it end with %s?", drv->name,
		                            n_if == LIST_GUARD ? "interfaces" : n_bus == LIST_GUARD ? "buses" : "features", LIST_GUARD,
		                            n_bus == LIST_GUARD && n_if != LIST_GUARD ? "{0}" : "NULL"));
	keys += drv->version != NULL;
	keys += n_feat > 0;
	nic_put_dict(&e, keys);
	nic_put_str(&e, "abi");
	nic_put_int(&e, NIC_ABI_VERSION);
	nic_put_str(&e, "class");
	nic_put_str(&e, drv->class_name);
	nic_put_str(&e, "name");
	nic_put_str(&e, drv->name);
	if (drv->version != NULL) {
		nic_put_str(&e, "version");
		nic_put_str(&e, drv->version);
	}
	nic_put_str(&e, "interfaces");
	nic_put_list(&e, n_if);
	for (size_t i = 0; i < n_if; i++)
		nic_put_str(&e, drv->interfaces[i]);
	nic_put_str(&e, "buses");
	nic_put_list(&e, n_bus);
	for (size_t i = 0; i < n_bus; i++) {
		nic_put_dict(&e, drv->buses[i].optional ? 3 : 2);
		nic_put_str(&e, "name");
		nic_put_str(&e, drv->buses[i].name);
		nic_put_str(&e, "kind");
		nic_put_str(&e, drv->buses[i].kind ? drv->buses[i].kind : "");
		if (drv->buses[i].optional) {
			nic_put_str(&e, "optional");
			nic_put_bool(&e, true);
		}
	}
	if (n_feat > 0) {
		nic_put_str(&e, "features");
		nic_put_list(&e, n_feat);
		for (size_t i = 0; i < n_feat; i++)
			nic_put_str(&e, drv->features[i]);
	}
	return finish_as(0, &e, "description");
}

/* read_start checks and keeps the start info (ABI.md §3.2). */
static int read_start(void) {
	int32_t n = nic_host_args(start_buf, sizeof start_buf);
	if (n < 0)
		return nic_errno_error("args", n);
	if ((size_t)n > sizeof start_buf)
		return nic_value_error("start info of %d bytes exceeds the %d-byte limit", n, NIC_MAX_MESSAGE);
	char err[NIC_MAX_ERROR];
	nic_val info;
	if (nic_decode(start_buf, (size_t)n, &info, err, sizeof err) < 0)
		return nic_value_error("start info: %s", err);
	if (!nic_is(info, NIC_DICT))
		return nic_value_error("start info: a %s, not a dict", nic_type_name(nic_typeof(info)));
	start.info = info;
	start.buses = nic_get(info, "buses");
	start.options = nic_get(info, "options");
	nic_val ifaces = nic_get(info, "interfaces");
	start.n_ifaces = (int)nic_len(ifaces);
	if (start.n_ifaces > MAX_IFACES)
		return nic_value_error("start info: %d interfaces, more than %d", start.n_ifaces, MAX_IFACES);
	for (int i = 0; i < start.n_ifaces; i++) {
		size_t len;
		const uint8_t *mac = nic_bytes(nic_get(nic_item(ifaces, (size_t)i), "mac"), &len);
		if (mac == NULL || len != 6)
			return nic_value_error("start info: interfaces[%d].mac is not 6 bytes", i);
		memcpy(start.macs[i], mac, 6);
	}
	copy_str(nic_get(info, "hostname"), start.hostname, sizeof start.hostname);
	copy_str(nic_get(info, "country"), start.country, sizeof start.country);
	start.phy_mode = (int)nic_int(nic_get(info, "phy_mode"));
	start.rx_batch = nic_host_has("rx_batch");
	return 0;
}

EXPORT("nic_start") int32_t nic_export_start(void) {
	if (drv == NULL)
		return done(no_driver());
	if (read_start() < 0)
		return done(-1);
	int32_t rc = nic_host_tx_buffer(tx_buf, sizeof tx_buf);
	if (rc < 0)
		return done(nic_errno_error("tx_buffer", rc));
	return done(drv->start());
}

EXPORT("nic_active") int32_t nic_export_active(int32_t iface) {
	nic_args a;
	nic_enc e;
	if (begin(&a, &e) < 0 || nic_takes(a, "active", 1, NULL) < 0)
		return done(-1);
	if (nic_len(a.pos) == 0) {
		bool up = false;
		int rc = drv->active(iface, &up);
		if (rc == 0)
			nic_put_bool(&e, up);
		return finish(rc, &e);
	}
	bool up;
	if (nic_want_bool(nic_item(a.pos, 0), "active", &up) < 0)
		return done(-1);
	return finish(drv->set_active(iface, up), &e);
}

EXPORT("nic_connect") int32_t nic_export_connect(int32_t iface) {
	nic_args a;
	nic_enc e;
	if (begin(&a, &e) < 0)
		return done(-1);
	if (drv->connect == NULL)
		return done(nic_not_implemented("connect() is not supported by %s", drv->class_name));
	return finish(drv->connect(iface, a), &e);
}

EXPORT("nic_disconnect") int32_t nic_export_disconnect(int32_t iface) {
	nic_args a;
	nic_enc e;
	if (begin(&a, &e) < 0 || nic_takes(a, "disconnect", 0, NULL) < 0)
		return done(-1);
	if (drv->disconnect == NULL)
		return done(nic_not_implemented("disconnect() is not supported by %s", drv->class_name));
	return finish(drv->disconnect(iface), &e);
}

EXPORT("nic_isconnected") int32_t nic_export_isconnected(int32_t iface) {
	nic_args a;
	nic_enc e;
	if (begin(&a, &e) < 0 || nic_takes(a, "isconnected", 0, NULL) < 0)
		return done(-1);
	bool c = false;
	int rc = drv->isconnected(iface, &c);
	if (rc == 0)
		nic_put_bool(&e, c);
	return finish(rc, &e);
}

EXPORT("nic_scan") int32_t nic_export_scan(int32_t iface) {
	nic_args a;
	nic_enc e;
	if (begin(&a, &e) < 0)
		return done(-1);
	if (drv->scan == NULL)
		return done(nic_not_implemented("scan() is not supported by %s", drv->class_name));
	int rc = drv->scan(iface, a, &e);
	if (rc == 0 && e.len == 0)
		nic_put_list(&e, 0);
	return finish(rc, &e);
}

EXPORT("nic_status") int32_t nic_export_status(int32_t iface) {
	nic_args a;
	nic_enc e;
	if (begin(&a, &e) < 0 || nic_takes(a, "status", 1, NULL) < 0)
		return done(-1);
	const char *param = NULL;
	if (nic_len(a.pos) == 1) {
		nic_val p = nic_item(a.pos, 0);
		int rc = name_arg(p, "status");
		if (rc < 0)
			return done(-1);
		if (rc > 0)
			return done(nic_value_error("unknown status parameter \"%s\"", shown(p)));
		if (name_buf[0] != 0) /* status('') is status(), as in the Go SDK */
			param = name_buf;
	}
	return finish(drv->status(iface, param, &e), &e);
}

EXPORT("nic_config") int32_t nic_export_config(int32_t iface) {
	nic_args a;
	nic_enc e;
	if (begin(&a, &e) < 0)
		return done(-1);
	size_t npos = nic_len(a.pos), nkw = nic_len(a.kw);
	if (npos == 1 && nkw == 0) {
		nic_val p = nic_item(a.pos, 0);
		int rc = name_arg(p, "config");
		if (rc < 0)
			return done(-1);
		if (rc > 0)
			return done(nic_value_error("unknown config parameter \"%s\"", shown(p)));
		return finish(drv->config_get(iface, name_buf, &e), &e);
	}
	if (npos == 0 && nkw > 0)
		return finish(drv->config_set(iface, a.kw), &e);
	return done(nic_type_error("config() takes either one parameter name or keyword arguments"));
}

EXPORT("nic_call") int32_t nic_export_call(int32_t iface) {
	nic_enc e;
	nic_enc_init(&e, reply_buf, sizeof reply_buf);
	if (drv == NULL)
		return done(no_driver());
	nic_val v;
	if (read_args(&v) < 0)
		return done(-1);
	if (!nic_is(v, NIC_LIST) || nic_len(v) != 3)
		return done(nic_type_error("nic_call: arguments must be [name, args, kwargs]"));
	nic_val name = nic_item(v, 0);
	if (!nic_is(name, NIC_STR))
		return done(nic_type_error("nic_call: method name must be str, got %s", nic_type_name(nic_typeof(name))));
	/* [args, kwargs] are items 1 and 2: check them as a pair, before the
	 * name's method is looked up, in the Go SDK's order. */
	nic_args a = {nic_item(v, 1), nic_item(v, 2)};
	if (!nic_is(a.pos, NIC_LIST))
		return done(nic_type_error("positional arguments must be a list, got %s", nic_type_name(nic_typeof(a.pos))));
	if (!nic_is(a.kw, NIC_DICT))
		return done(nic_type_error("keyword arguments must be a map, got %s", nic_type_name(nic_typeof(a.kw))));
	if (name_arg(name, "nic_call") > 0)
		return done(nic_not_implemented("%s has no method %s()", drv->class_name, shown(name)));
	if (drv->call == NULL)
		return done(nic_no_method(name_buf));
	return finish(drv->call(iface, name_buf, a, &e), &e);
}

EXPORT("nic_poll") int32_t nic_export_poll(int32_t events) {
	if (drv == NULL)
		return done(no_driver());
	return done(drv->poll((uint32_t)events));
}

/* tx_one offers one frame to the driver's transmit: 0 taken, NIC_TX_BUSY,
 * or -1 with an error set (also for a result transmit may not return). */
static int tx_one(int iface, const uint8_t *frame, size_t len) {
	int rc = drv->transmit(iface, frame, len);
	if (rc == 0 || rc == NIC_TX_BUSY || rc == -1)
		return rc;
	nic_clear_error();
	return nic_os_error(NIC_EIO, "%s: transmit returned %d (0, NIC_TX_BUSY or -1)", drv->name, rc);
}

EXPORT("nic_transmit") int32_t nic_export_transmit(int32_t iface, int32_t len) {
	if (drv == NULL)
		return done(no_driver());
	if (len < 0 || (size_t)len > sizeof tx_buf)
		return done(nic_os_error(NIC_EINVAL, "nic_transmit: a frame of %d bytes is outside the transmit buffer", len));
	int rc = tx_one(iface, tx_buf, (size_t)len);
	if (rc == NIC_TX_BUSY) {
		done(0);
		return NIC_TX_BUSY;
	}
	return done(rc);
}

static nic_frame batch[NIC_MAX_TX_BATCH];

EXPORT("nic_transmit_batch") int32_t nic_export_transmit_batch(int32_t iface, int32_t count, int32_t length) {
	if (drv == NULL)
		return done(no_driver());
	if (count < 1 || count > NIC_MAX_TX_BATCH || length < 0 || (size_t)length > sizeof tx_buf)
		return done(nic_os_error(NIC_EINVAL, "nic_transmit_batch: %d frames in %d bytes is no batch", count, length));
	size_t off = 0;
	for (int i = 0; i < count; i++) {
		if ((size_t)length - off < 4)
			return done(nic_os_error(NIC_EINVAL, "nic_transmit_batch: record %d runs past the %d bytes", i, length));
		const uint8_t *p = tx_buf + off;
		size_t n = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
		if (n == 0 || n > NIC_MAX_FRAME || n > (size_t)length - off - 4)
			return done(nic_os_error(NIC_EINVAL, "nic_transmit_batch: record %d has length %zu", i, n));
		batch[i].data = p + 4;
		batch[i].len = n;
		off += 4 + n;
	}
	int k;
	if (drv->transmit_batch != NULL) {
		k = drv->transmit_batch(iface, batch, count);
		if (k < -1 || k > count) {
			nic_clear_error();
			return done(nic_os_error(NIC_EIO, "%s: transmit_batch returned %d for %d frames", drv->name, k, count));
		}
	} else {
		/* One transmit per frame, up to the first that is not taken:
		 * busy there answers how many were; an error refuses it if it
		 * is the first, and otherwise waits for the host to offer it
		 * again as the first. */
		for (k = 0; k < count; k++) {
			int rc = tx_one(iface, batch[k].data, batch[k].len);
			if (rc == 0)
				continue;
			if (rc == -1 && k == 0)
				k = -1;
			break;
		}
	}
	if (k == -1)
		return done(-1);
	done(0); /* an error raised after some frames were taken is dropped */
	return k;
}
