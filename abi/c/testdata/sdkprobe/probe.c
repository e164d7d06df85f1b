/*
 * probe.c: a LAN "driver" whose callbacks let tests/csdk_test.go drive
 * every path of the C SDK (abi/c/nic.c) through the host: replies and
 * errors of every kind, results the SDK must turn into errors rather than
 * ABI violations, frames delivered in bulk, and transmit answers chosen by
 * config. It drives no device: it declares LAN's buses, port and mdio, and
 * never uses them. connect, disconnect and scan are left NULL, for the
 * SDK to answer.
 *
 * config parameters (read and write):
 *   tx     how transmit and transmit_batch answer: "take" every frame;
 *          "busy"; "refuse" (OSError EAGAIN); "partial" (a batch takes at
 *          most `take` frames); "budget" (`take` frames in all, then
 *          refuse); "bogus" (results the ABI has not: 7 from transmit,
 *          count + 1 from transmit_batch); "silent" (-1, no error set).
 *   take   int, for "partial" and "budget".
 *   batch  bool: whether the driver has transmit_batch (False: the SDK
 *          serves a batch with one transmit per frame).
 *   poll   how poll answers: "ok", "raise" (an OSError), "silent" (-1, no
 *          error), "weird" (3).
 *   trace  int, checked with nic_parse_trace.
 *   mac    the interface's address.
 * Setting tx, take or batch clears the transmit log; any setting asks for
 * a poll, which ends a busy spell (the host offers kept frames again).
 *
 * Frames offered for transmit are the test's: EtherType 0x88b5, a
 * big-endian u32 sequence number at offset 14, then byte i (from 18) is
 * (seq + i) & 0xff. call("txlog") returns what the driver was offered and
 * took. call() methods are listed at call().
 *
 * Options: n (int), name (str, at most 15 bytes), fail (str: start fails
 * with it); any other is a ValueError naming it.
 */
#include <string.h>

#include "nic.h"

#define ETHERTYPE 0x88b5
#define MAX_CALLS 512
#define MAX_TAKEN 2048

typedef enum { TX_TAKE, TX_BUSY, TX_REFUSE, TX_PARTIAL, TX_BUDGET, TX_BOGUS, TX_SILENT, N_TX } tx_mode;
static const char *const tx_names[N_TX] = {"take", "busy", "refuse", "partial", "budget", "bogus", "silent"};

typedef enum { POLL_OK, POLL_RAISE, POLL_SILENT, POLL_WEIRD, N_POLL } poll_mode;
static const char *const poll_names[N_POLL] = {"ok", "raise", "silent", "weird"};

static int transmit_batch(int iface, const nic_frame *frames, int count);
static nic_driver probe; /* defined at the end */

static struct {
	bool active;
	uint8_t mac[6];
	int64_t trace;
	tx_mode tx;
	int64_t take;   /* partial: per batch; budget: what is left */
	bool batch;
	poll_mode poll;

	/* The transmit log since the last change of tx, take or batch. */
	struct {
		const char *kind; /* "batch" (n: frames offered) or "one" (n: bytes) */
		int n, rc;
	} calls[MAX_CALLS];
	int n_calls;
	bool calls_lost;
	uint32_t taken[MAX_TAKEN]; /* sequence numbers, in the order taken */
	int n_taken;
	int corrupt; /* frames whose bytes are not the test's pattern */

	int polls;
	uint32_t first_events;
} p = {.batch = true};

static uint8_t frame_buf[NIC_MAX_FRAME];
static char text[2048];

/* ------------------------------------------------------------------ */
/* Transmit                                                            */
/* ------------------------------------------------------------------ */

static void log_call(const char *kind, int n, int rc) {
	if (p.n_calls == MAX_CALLS) {
		p.calls_lost = true;
		return;
	}
	p.calls[p.n_calls].kind = kind;
	p.calls[p.n_calls].n = n;
	p.calls[p.n_calls].rc = rc;
	p.n_calls++;
}

static void take_frame(const uint8_t *f, size_t len) {
	bool ok = len >= 18 && (f[12] << 8 | f[13]) == ETHERTYPE;
	uint32_t seq = 0;
	if (ok) {
		seq = (uint32_t)f[14] << 24 | (uint32_t)f[15] << 16 | (uint32_t)f[16] << 8 | f[17];
		for (size_t i = 18; i < len && ok; i++)
			ok = f[i] == (uint8_t)(seq + i);
	}
	if (!ok)
		p.corrupt++;
	if (p.n_taken < MAX_TAKEN)
		p.taken[p.n_taken++] = seq;
}

static int refuse(void) { return nic_os_error(NIC_EAGAIN, "probe: frame refused (tx=%s)", tx_names[p.tx]); }

static int answer_one(const uint8_t *f, size_t len) {
	switch (p.tx) {
	case TX_TAKE:
	case TX_PARTIAL:
		take_frame(f, len);
		return 0;
	case TX_BUSY:
		return NIC_TX_BUSY;
	case TX_REFUSE:
		return refuse();
	case TX_BUDGET:
		if (p.take <= 0)
			return refuse();
		p.take--;
		take_frame(f, len);
		return 0;
	case TX_BOGUS:
		return 7;
	case TX_SILENT:
	case N_TX:
		break;
	}
	return -1;
}

static int transmit(int iface, const uint8_t *f, size_t len) {
	int rc = answer_one(f, len);
	log_call("one", (int)len, rc);
	return rc;
}

static int transmit_batch(int iface, const nic_frame *frames, int count) {
	int k = -1;
	switch (p.tx) {
	case TX_TAKE:
		for (k = 0; k < count; k++)
			take_frame(frames[k].data, frames[k].len);
		break;
	case TX_BUSY:
		k = 0;
		break;
	case TX_REFUSE:
		k = refuse();
		break;
	case TX_PARTIAL:
		k = p.take < count ? (int)(p.take > 0 ? p.take : 0) : count;
		for (int i = 0; i < k; i++)
			take_frame(frames[i].data, frames[i].len);
		break;
	case TX_BUDGET:
		for (k = 0; k < count && p.take > 0; k++, p.take--)
			take_frame(frames[k].data, frames[k].len);
		if (k < count) {
			/* The error is for frames[k]: with k > 0 the SDK drops it
			 * and the host offers frames[k] again, first. */
			refuse();
			if (k == 0)
				k = -1;
		}
		break;
	case TX_BOGUS:
		k = count + 1;
		break;
	case TX_SILENT:
	case N_TX:
		k = -1;
		break;
	}
	log_call("batch", count, k);
	return k;
}

/* ------------------------------------------------------------------ */
/* The required callbacks                                              */
/* ------------------------------------------------------------------ */

static int start(void) {
	memcpy(p.mac, nic_mac(0), 6);
	nic_val opts = nic_options();
	for (size_t i = 0; i < nic_len(opts); i++) {
		nic_val k = nic_key_at(opts, i), v = nic_value_at(opts, i);
		size_t n;
		const char *key = nic_str(k, &n);
		if (nic_str_is(k, "n")) {
			int64_t x;
			if (nic_want_int(v, "options.n", &x) < 0)
				return -1;
		} else if (nic_str_is(k, "name")) {
			char name[16];
			if (nic_want_str(v, "options.name", name, sizeof name) < 0)
				return -1;
		} else if (nic_str_is(k, "fail")) {
			if (nic_want_str(v, "options.fail", text, sizeof text) < 0)
				return -1;
			return nic_os_error(NIC_ENODEV, "probe: told to fail: %s", text);
		} else {
			return nic_value_error("options: unknown option \"%.*s\" (known: n, name, fail)", (int)n, key);
		}
	}
	return 0;
}

static int active(int iface, bool *up) {
	*up = p.active;
	return 0;
}

static int set_active(int iface, bool up) {
	p.active = up;
	return 0;
}

static int isconnected(int iface, bool *c) {
	*c = p.active;
	return 0;
}

static int status(int iface, const char *param, nic_enc *out) {
	if (param != NULL)
		return nic_value_error("unknown status parameter \"%s\"", param);
	nic_put_int(out, p.active ? 2 : 0);
	return 0;
}

#define PARAMS "mac, tx, take, batch, poll, trace"

static int config_get(int iface, const char *name, nic_enc *out) {
	if (strcmp(name, "mac") == 0)
		nic_put_bytes(out, p.mac, 6);
	else if (strcmp(name, "tx") == 0)
		nic_put_str(out, tx_names[p.tx]);
	else if (strcmp(name, "take") == 0)
		nic_put_int(out, p.take);
	else if (strcmp(name, "batch") == 0)
		nic_put_bool(out, p.batch);
	else if (strcmp(name, "poll") == 0)
		nic_put_str(out, poll_names[p.poll]);
	else if (strcmp(name, "trace") == 0)
		nic_put_int(out, p.trace);
	else
		return nic_value_error("unknown config parameter \"%s\" (known: %s)", name, PARAMS);
	return 0;
}

/* pick finds v, a str, among names: its index, or -1 with a ValueError. */
static int pick(nic_val v, const char *param, const char *const *names, int n) {
	char s[16];
	if (nic_want_str(v, param, s, sizeof s) < 0)
		return -1;
	for (int i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return nic_value_error("%s: \"%s\" is not a mode of the probe", param, s);
}

static int config_set(int iface, nic_val kw) {
	int tx = -1, poll = -1;
	int64_t take = 0, trace = 0;
	bool batch = false, set_take = false, set_batch = false, set_trace = false;
	const uint8_t *mac = NULL;
	/* Every key is checked before any is applied. */
	for (size_t i = 0; i < nic_len(kw); i++) {
		nic_val k = nic_key_at(kw, i), v = nic_value_at(kw, i);
		size_t n;
		const char *key = nic_str(k, &n);
		if (nic_str_is(k, "tx")) {
			if ((tx = pick(v, "tx", tx_names, N_TX)) < 0)
				return -1;
		} else if (nic_str_is(k, "poll")) {
			if ((poll = pick(v, "poll", poll_names, N_POLL)) < 0)
				return -1;
		} else if (nic_str_is(k, "take")) {
			if (nic_want_int(v, "take", &take) < 0)
				return -1;
			set_take = true;
		} else if (nic_str_is(k, "batch")) {
			if (nic_want_bool(v, "batch", &batch) < 0)
				return -1;
			set_batch = true;
		} else if (nic_str_is(k, "trace")) {
			if (nic_parse_trace(v, &trace) < 0)
				return -1;
			set_trace = true;
		} else if (nic_str_is(k, "mac")) {
			size_t len;
			if (nic_want_bytes(v, "mac", &mac, &len) < 0)
				return -1;
			if (len != 6)
				return nic_value_error("a MAC address is 6 bytes");
		} else {
			return nic_value_error("unknown config parameter \"%.*s\" (known: %s)", (int)n, key, PARAMS);
		}
	}
	if (tx >= 0 || set_take || set_batch) {
		p.n_calls = 0;
		p.calls_lost = false;
		p.n_taken = 0;
		p.corrupt = 0;
	}
	if (tx >= 0)
		p.tx = (tx_mode)tx;
	if (poll >= 0)
		p.poll = (poll_mode)poll;
	if (set_take)
		p.take = take;
	if (set_batch) {
		p.batch = batch;
		probe.transmit_batch = batch ? transmit_batch : NULL;
	}
	if (set_trace)
		p.trace = trace;
	if (mac != NULL)
		memcpy(p.mac, mac, 6);
	nic_wake_after(0);
	return 0;
}

static int poll(uint32_t events) {
	if (p.polls++ == 0)
		p.first_events = events;
	switch (p.poll) {
	case POLL_OK:
	case N_POLL:
		break;
	case POLL_RAISE:
		return nic_os_error(NIC_EIO, "probe: poll told to fail");
	case POLL_SILENT:
		return -1;
	case POLL_WEIRD:
		return 3;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* call()                                                              */
/* ------------------------------------------------------------------ */

/* copy writes v again with the nic_put_* functions, as a driver builds a
 * result of its own. */
static void copy(nic_enc *e, nic_val v) {
	size_t n;
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
		const char *s = nic_str(v, &n);
		nic_put_strn(e, s, n);
		return;
	}
	case NIC_BYTES: {
		const uint8_t *b = nic_bytes(v, &n);
		nic_put_bytes(e, b, n);
		return;
	}
	case NIC_LIST:
	case NIC_TUPLE:
		n = nic_len(v);
		if (nic_is(v, NIC_TUPLE))
			nic_put_tuple(e, n);
		else
			nic_put_list(e, n);
		for (size_t i = 0; i < n; i++)
			copy(e, nic_item(v, i));
		return;
	case NIC_DICT:
		n = nic_len(v);
		nic_put_dict(e, n);
		for (size_t i = 0; i < n; i++) {
			copy(e, nic_key_at(v, i));
			copy(e, nic_value_at(v, i));
		}
		return;
	case NIC_ABSENT:
		return;
	}
}

/* arg_int reads positional argument i, an int (a TypeError naming it if
 * it is missing or another type). */
static int arg_int(nic_args a, size_t i, const char *name, int64_t *out) { return nic_want_int(nic_item(a.pos, i), name, out); }

/* deliver hands n test frames of size bytes to the core on iface. */
static int deliver(nic_args a, nic_enc *out) {
	int64_t n, size, iface = 0;
	if (nic_takes(a, "deliver", 3, NULL) < 0 || arg_int(a, 0, "n", &n) < 0 || arg_int(a, 1, "size", &size) < 0)
		return -1;
	if (nic_len(a.pos) > 2 && arg_int(a, 2, "iface", &iface) < 0)
		return -1;
	if (size < 18 || size > NIC_MAX_FRAME)
		return nic_value_error("size: %lld is not 18..65535", (long long)size);
	int failed = 0;
	int32_t first = 0;
	for (int64_t seq = 0; seq < n; seq++) {
		memset(frame_buf, 0xff, 6);
		memcpy(frame_buf + 6, p.mac, 6);
		frame_buf[12] = ETHERTYPE >> 8;
		frame_buf[13] = ETHERTYPE & 0xff;
		for (int b = 0; b < 4; b++)
			frame_buf[14 + b] = (uint8_t)(seq >> (24 - 8 * b));
		for (int64_t i = 18; i < size; i++)
			frame_buf[i] = (uint8_t)(seq + i);
		int32_t rc = nic_deliver((int)iface, frame_buf, (size_t)size);
		if (rc != 0 && failed++ == 0)
			first = rc;
	}
	nic_put_list(out, 2);
	nic_put_int(out, failed);
	nic_put_int(out, first);
	return 0;
}

static int bad_reply(nic_args a, nic_enc *out) {
	char what[16];
	if (nic_want_str(nic_item(a.pos, 0), "what", what, sizeof what) < 0)
		return -1;
	if (strcmp(what, "count") == 0) { /* a list of 2 with 1 item */
		nic_put_list(out, 2);
		nic_put_int(out, 1);
	} else if (strcmp(what, "extra") == 0) { /* two values */
		nic_put_int(out, 1);
		nic_put_int(out, 2);
	} else if (strcmp(what, "utf8") == 0) {
		nic_put_strn(out, "\xc3", 1);
	} else if (strcmp(what, "key") == 0) {
		nic_put_dict(out, 1);
		nic_put_int(out, 1);
		nic_put_int(out, 2);
	} else if (strcmp(what, "dup") == 0) {
		nic_put_dict(out, 2);
		nic_put_str(out, "a");
		nic_put_int(out, 1);
		nic_put_str(out, "a");
		nic_put_int(out, 2);
	} else if (strcmp(what, "deep") == 0) { /* 17 lists, one in the other */
		for (int i = 0; i < 16; i++)
			nic_put_list(out, 1);
		nic_put_list(out, 0);
	} else if (strcmp(what, "big") == 0) { /* 65535 bytes and two heads: past 64 KiB */
		nic_put_list(out, 2);
		nic_put_bytes(out, frame_buf, sizeof frame_buf);
		nic_put_none(out);
	} else if (strcmp(what, "items") == 0) {
		nic_put_list(out, NIC_MAX_ITEMS + 1);
	} else if (strcmp(what, "pairs") == 0) {
		nic_put_dict(out, NIC_MAX_PAIRS + 1);
	} else if (strcmp(what, "null") == 0) {
		nic_put_str(out, NULL);
	} else {
		return nic_value_error("badreply: no such case \"%s\"", what);
	}
	return 0;
}

/* long_text fills text with pad 'x's, then "é€𝄞a" (2, 3, 4 and 1 bytes
 * of UTF-8) as often as it fits in 2000 bytes: a message the SDK must cut
 * at 1024 bytes, for each pad at another place of a character. */
static void long_text(int64_t pad) {
	static const char pattern[] = "\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e" "a";
	size_t n = 0;
	for (; n < (size_t)pad && n < 2000; n++)
		text[n] = 'x';
	while (n + sizeof pattern - 1 <= 2000) {
		memcpy(text + n, pattern, sizeof pattern - 1);
		n += sizeof pattern - 1;
	}
	text[n] = 0;
}

static int accessors(nic_enc *out) {
	nic_put_dict(out, 12);
	nic_put_str(out, "port");
	nic_put_int(out, nic_bus_handle("port"));
	nic_put_str(out, "mdio");
	nic_put_int(out, nic_bus_handle("mdio"));
	nic_put_str(out, "nope");
	nic_put_int(out, nic_bus_handle("nope"));
	nic_put_str(out, "mac");
	nic_put_bytes(out, nic_mac(0), 6);
	nic_put_str(out, "mac1");
	if (nic_mac(1) == NULL)
		nic_put_none(out);
	else
		nic_put_bytes(out, nic_mac(1), 6);
	nic_put_str(out, "hostname");
	nic_put_str(out, nic_hostname());
	nic_put_str(out, "country");
	nic_put_str(out, nic_country());
	nic_put_str(out, "phy_mode");
	nic_put_int(out, nic_phy_mode());
	nic_put_str(out, "tx_batch");
	nic_put_bool(out, nic_host_has("tx_batch"));
	nic_put_str(out, "rx_batch");
	nic_put_bool(out, nic_host_has("rx_batch"));
	nic_put_str(out, "blob");
	nic_put_bool(out, nic_host_has("blob"));
	nic_put_str(out, "options");
	nic_put_int(out, (int64_t)nic_len(nic_options()));
	return 0;
}

static int txlog(nic_enc *out) {
	nic_put_dict(out, 4);
	nic_put_str(out, "calls");
	nic_put_list(out, (size_t)p.n_calls);
	for (int i = 0; i < p.n_calls; i++) {
		nic_put_list(out, 3);
		nic_put_str(out, p.calls[i].kind);
		nic_put_int(out, p.calls[i].n);
		nic_put_int(out, p.calls[i].rc);
	}
	nic_put_str(out, "taken");
	nic_put_list(out, (size_t)p.n_taken);
	for (int i = 0; i < p.n_taken; i++)
		nic_put_int(out, p.taken[i]);
	nic_put_str(out, "corrupt");
	nic_put_int(out, p.corrupt);
	nic_put_str(out, "lost");
	nic_put_bool(out, p.calls_lost);
	return 0;
}

/*
 * call() methods:
 *   echo(v)                 v, copied with nic_put_value
 *   echo_args(*a, **kw)     (a, kw)
 *   roundtrip(v)            v, rebuilt with the nic_put_* functions
 *   types(*a)               the nic_type_name of each argument
 *   want(kind, v[, cap])    v read with nic_want_<kind> (int, bool, str
 *                           with a buffer of cap bytes, bytes)
 *   takes(*a, **kw)         nic_takes(a, "takes", 2, {alpha, beta})
 *   noargs(), nokw(x)       nic_takes with no arguments / no keywords
 *   raise(kind, errno, msg) nic_error(kind, errno, "%s", msg)
 *   errno_error(rc)         nic_errno_error("probe: op", rc)
 *   long_error(pad)         an OSError of pad 'x's and multibyte text,
 *                           2000 bytes long
 *   long_log(pad)           the same text as a log line
 *   silent()                -1 with no error set
 *   weird()                 7
 *   recover()               sets an error, then returns 0 with "recovered"
 *   badreply(what)          a result that is no value (see bad_reply)
 *   deliver(n, size[, if])  n test frames to the core; [failed, first rc]
 *   deliver_bad()           nic_deliver's own refusals: [rc of 0 bytes,
 *                           of 65536 bytes, of interface 5]
 *   start_info()            the start info, as the host sent it
 *   accessors()             what the start info's accessors return
 *   txlog()                 the transmit log
 *   polls()                 [polls so far, the first poll's events]
 */
static int call(int iface, const char *name, nic_args a, nic_enc *out) {
	nic_val v0 = nic_item(a.pos, 0);
	int64_t n;
	if (strcmp(name, "echo") == 0) {
		if (nic_takes(a, "echo", 1, NULL) < 0)
			return -1;
		if (v0.p == NULL)
			return nic_type_error("missing argument v");
		nic_put_value(out, v0);
	} else if (strcmp(name, "echo_args") == 0) {
		nic_put_tuple(out, 2);
		nic_put_value(out, a.pos);
		nic_put_value(out, a.kw);
	} else if (strcmp(name, "roundtrip") == 0) {
		copy(out, v0);
	} else if (strcmp(name, "types") == 0) {
		nic_put_list(out, nic_len(a.pos));
		for (size_t i = 0; i < nic_len(a.pos); i++)
			nic_put_str(out, nic_type_name(nic_typeof(nic_item(a.pos, i))));
	} else if (strcmp(name, "want") == 0) {
		char kind[8];
		nic_val v = nic_item(a.pos, 1);
		if (nic_want_str(v0, "kind", kind, sizeof kind) < 0)
			return -1;
		if (strcmp(kind, "int") == 0) {
			int64_t x;
			if (nic_want_int(v, "v", &x) < 0)
				return -1;
			nic_put_int(out, x);
		} else if (strcmp(kind, "bool") == 0) {
			bool x;
			if (nic_want_bool(v, "v", &x) < 0)
				return -1;
			nic_put_bool(out, x);
		} else if (strcmp(kind, "str") == 0) {
			int64_t cap;
			if (arg_int(a, 2, "cap", &cap) < 0)
				return -1;
			if (cap < 0 || cap > (int64_t)sizeof text)
				return nic_value_error("cap: %lld is not 0..%zu", (long long)cap, sizeof text);
			if (nic_want_str(v, "v", text, (size_t)cap) < 0)
				return -1;
			nic_put_str(out, text);
		} else {
			const uint8_t *b;
			size_t len;
			if (nic_want_bytes(v, "v", &b, &len) < 0)
				return -1;
			nic_put_bytes(out, b, len);
		}
	} else if (strcmp(name, "takes") == 0) {
		static const char *const kws[] = {"alpha", "beta", NULL};
		if (nic_takes(a, "takes", 2, kws) < 0)
			return -1;
	} else if (strcmp(name, "noargs") == 0) {
		if (nic_takes(a, "noargs", 0, NULL) < 0)
			return -1;
	} else if (strcmp(name, "nokw") == 0) {
		if (nic_takes(a, "nokw", 1, NULL) < 0)
			return -1;
	} else if (strcmp(name, "raise") == 0) {
		int64_t kind, errno_;
		if (arg_int(a, 0, "kind", &kind) < 0 || arg_int(a, 1, "errno", &errno_) < 0 ||
		    nic_want_str(nic_item(a.pos, 2), "msg", text, sizeof text) < 0)
			return -1;
		return nic_error((int)kind, (int)errno_, "%s", text);
	} else if (strcmp(name, "errno_error") == 0) {
		if (arg_int(a, 0, "rc", &n) < 0)
			return -1;
		return nic_errno_error("probe: op", (int32_t)n);
	} else if (strcmp(name, "long_error") == 0) {
		if (arg_int(a, 0, "pad", &n) < 0)
			return -1;
		long_text(n);
		return nic_os_error(NIC_EIO, "%s", text);
	} else if (strcmp(name, "long_log") == 0) {
		if (arg_int(a, 0, "pad", &n) < 0)
			return -1;
		long_text(n);
		nic_log(NIC_LOG_WARN, "%s", text);
	} else if (strcmp(name, "silent") == 0) {
		return -1;
	} else if (strcmp(name, "weird") == 0) {
		return 7;
	} else if (strcmp(name, "recover") == 0) {
		nic_value_error("probe: an error the driver recovered from");
		nic_put_str(out, "recovered");
	} else if (strcmp(name, "badreply") == 0) {
		return bad_reply(a, out);
	} else if (strcmp(name, "deliver") == 0) {
		return deliver(a, out);
	} else if (strcmp(name, "deliver_bad") == 0) {
		memset(frame_buf, 0, 60);
		nic_put_list(out, 3);
		nic_put_int(out, nic_deliver(0, frame_buf, 0));
		nic_put_int(out, nic_deliver(0, frame_buf, NIC_MAX_FRAME + 1));
		nic_put_int(out, nic_deliver(5, frame_buf, 60));
	} else if (strcmp(name, "start_info") == 0) {
		nic_put_value(out, nic_start_info());
	} else if (strcmp(name, "accessors") == 0) {
		return accessors(out);
	} else if (strcmp(name, "txlog") == 0) {
		return txlog(out);
	} else if (strcmp(name, "polls") == 0) {
		nic_put_list(out, 2);
		nic_put_int(out, p.polls);
		nic_put_int(out, p.first_events);
	} else {
		return nic_no_method(name);
	}
	return 0;
}

/* ------------------------------------------------------------------ */

static const char *const interfaces[] = {"eth", NULL};
static const nic_bus buses[] = {{"port", "frame", false}, {"mdio", "mdio", false}, {0}};

/* Not const: config(batch=False) takes transmit_batch away, and the SDK
 * reads the table at each call. */
static nic_driver probe = {
	.class_name = "LAN",
	.name = "probe",
	.version = "1",
	.interfaces = interfaces,
	.buses = buses,
	.start = start,
	.active = active,
	.set_active = set_active,
	.isconnected = isconnected,
	.status = status,
	.config_get = config_get,
	.config_set = config_set,
	.poll = poll,
	.transmit = transmit,
	.transmit_batch = transmit_batch,
	.call = call,
};

NIC_REGISTER(probe)
