/*
 * nic.h: nichost's C SDK for driver plugins, ABI 1.1 (abi/ABI.md).
 *
 * A driver fills in a struct nic_driver (its description and a table of
 * callbacks, the C form of the Go SDK's guest.Driver), registers it with
 * NIC_REGISTER, and is built with nic.c as a reactor:
 *
 *     clang --target=wasm32-wasi -mexec-model=reactor -O2 -o drv.wasm drv.c nic.c
 *
 * (`nichost build DIR` does this for a directory with a nichost-plugin.yaml
 * manifest). nic.c provides every export of ABI.md §4: it reads and checks
 * the CBOR arguments (§3, every limit), checks the shape of each call as
 * MicroPython would (`active() takes at most 1 argument, got 2`), calls the
 * driver, encodes its result and raises its error. Optional callbacks may be
 * NULL: the method then raises NotImplementedError naming the class
 * (`connect() is not supported by LAN`, `LAN has no method regs()`).
 *
 * Conventions:
 *   - A callback returns 0 on success or -1 after setting an error with
 *     nic_error() (or one of its shorthands, which return -1, so that
 *     `return nic_value_error("...")` works). Returning -1 with no error set
 *     raises OSError(EIO) "NAME: the driver failed without saying why"
 *     (NAME the description's); any other result is an OSError(EIO) too.
 *     An error set by a callback that then returns 0 is forgotten.
 *   - Results are written with the nic_put_* functions into the nic_enc
 *     the callback is given: one value (a container counts as one, with
 *     its items). Writing nothing replies None (scan: an empty list).
 *     nic.c checks the result before replying: a wrong count, a dict key
 *     that is not a str or appears twice, nesting past 16, more than 64
 *     KiB are an OSError(EIO) "NAME: driver result: ..." for the caller,
 *     never a broken reply (which would get the instance discarded).
 *   - Values the host sends are nic_val cursors into a message nic.c has
 *     already checked against the value model: reading them cannot fail
 *     or run past the message. A cursor, and every pointer read from it
 *     (nic_str, nic_bytes), is valid until the callback returns: copy what
 *     you keep (a MAC address from config_set). The start info's stay
 *     valid until the instance ends. The names nic.c passes (status's
 *     param, config_get's name, call's name) are NUL-terminated copies,
 *     valid until the callback returns.
 *   - Host functions that can fail return a negated errno (-NIC_EIO, ...).
 *   - iface is an index into the description's interfaces; the host
 *     passes no other, and nic.c passes it on unchecked.
 *
 * Everything here is single-threaded: the host makes one call at a time.
 *
 * A plugin built with this SDK declares ABI 1.1 (NIC_ABI_VERSION) and
 * imports rx_push_batch, so a 1.0 host refuses it (ABI.md §6); it uses
 * the host features of 1.1 only where the start info lists them.
 */
#ifndef NICHOST_NIC_H
#define NICHOST_NIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version this SDK speaks: major << 16 | minor. */
#define NIC_ABI_VERSION 0x00010001

/* Return codes of host functions, negated (ABI.md §2). */
enum {
	NIC_EPERM = 1,
	NIC_EIO = 5,
	NIC_E2BIG = 7,
	NIC_EBADF = 9,
	NIC_EAGAIN = 11,
	NIC_EFAULT = 14,
	NIC_ENODEV = 19,
	NIC_EINVAL = 22,
	NIC_EMSGSIZE = 90,
	NIC_ENOTSUP = 95,
	NIC_ENOBUFS = 105,
	NIC_ETIMEDOUT = 110,
};

/* Error kinds (ABI.md §3.4). */
enum {
	NIC_VALUE_ERROR = 1,
	NIC_TYPE_ERROR = 2,
	NIC_OS_ERROR = 3,
	NIC_NOT_IMPLEMENTED = 4,
};

/* Bits of nic_poll's argument (ABI.md §4). */
enum {
	NIC_EVENT_TIMER = 1,
	NIC_EVENT_GPIO = 2,
	NIC_EVENT_UART = 4,
	NIC_EVENT_FRAME = 8,
	NIC_EVENT_TX = 16,
	NIC_EVENT_START = 32,
};

/* Log levels of nic_log (ABI.md §5). */
enum { NIC_LOG_DEBUG = -4, NIC_LOG_INFO = 0, NIC_LOG_WARN = 4, NIC_LOG_ERROR = 8 };

/* Link types of nic_link (ABI.md §9). */
enum { NIC_LINK_ETHERNET = 1, NIC_LINK_IP = 2 };

/* GPIO edges of nic_gpio_watch. */
enum { NIC_EDGE_NONE = 0, NIC_EDGE_RISING = 1, NIC_EDGE_FALLING = 2, NIC_EDGE_BOTH = 3 };

/* Limits (ABI.md §3, §4, §5). */
#define NIC_MAX_MESSAGE 65536 /* bytes of one CBOR message */
#define NIC_MAX_DEPTH 16      /* containers nested, the outermost counted */
#define NIC_MAX_ITEMS 4096    /* items of one list or tuple */
#define NIC_MAX_PAIRS 1024    /* pairs of one dict */
#define NIC_MAX_ERROR 1024    /* bytes of an error message */
#define NIC_MAX_FRAME 65535   /* bytes of one frame */
#define NIC_MAX_TX_BATCH 64   /* frames of one nic_transmit_batch */
#define NIC_MAX_RX_BATCH 256  /* frames of one rx_push_batch */
#define NIC_TX_BUFFER 65536   /* the transmit buffer nic.c registers: a frame
                               * of 65533-65535 bytes, too long for a batch
                               * record, comes to transmit alone */

/* nic_transmit's busy answer: keep the frame, offer it after the next poll. */
#define NIC_TX_BUSY 1

/* Trace flags of config(trace=N), MicroPython's numbering (ABI.md §8). */
enum {
	NIC_TRACE_EVENTS = 1,
	NIC_TRACE_TX = 2,
	NIC_TRACE_RX = 4,
	NIC_TRACE_FULL = 8,
};

/* ------------------------------------------------------------------ */
/* Values (ABI.md §3)                                                  */
/* ------------------------------------------------------------------ */

typedef enum {
	NIC_ABSENT = 0, /* no value: a missing argument, key or item */
	NIC_NONE,
	NIC_BOOL,
	NIC_INT,
	NIC_FLOAT,
	NIC_STR,
	NIC_BYTES,
	NIC_LIST,
	NIC_TUPLE,
	NIC_DICT,
} nic_type;

/* A cursor at one value of a checked message. The zero value is absent. */
typedef struct {
	const uint8_t *p;
} nic_val;

/* The type of v; NIC_ABSENT for a missing value. */
nic_type nic_typeof(nic_val v);
/* MicroPython's name of a type: "int", "str", "NoneType", ... ("nothing"
 * for NIC_ABSENT). */
const char *nic_type_name(nic_type t);
bool nic_is(nic_val v, nic_type t);

/* Scalars. Each returns the zero value for a value of another type. */
bool nic_bool(nic_val v);
int64_t nic_int(nic_val v);
double nic_float(nic_val v);
/* A str's UTF-8 bytes (not NUL-terminated: a str may hold NUL) or a bytes
 * value's bytes, with its length in *len (len may be NULL). */
const char *nic_str(nic_val v, size_t *len);
const uint8_t *nic_bytes(nic_val v, size_t *len);
/* Whether v is the str s. */
bool nic_str_is(nic_val v, const char *s);

/* Containers. nic_len is the number of items of a list or tuple, of pairs
 * of a dict, 0 otherwise (absent included: a missing dict is empty).
 * Items are found by walking the message from the container's start:
 * nic_item, nic_key_at and nic_value_at cost O(i), nic_get O(pairs). Keys
 * of one dict are distinct (nic.c refuses a message with a key twice). To
 * visit a dict, such as the options, refusing keys the driver does not
 * know:
 *
 *     nic_val opts = nic_options();
 *     for (size_t i = 0; i < nic_len(opts); i++) {
 *         nic_val k = nic_key_at(opts, i), v = nic_value_at(opts, i);
 *         size_t n;
 *         const char *key = nic_str(k, &n); // not NUL-terminated
 *         if (nic_str_is(k, "phy_addr")) {
 *             int64_t addr;
 *             if (nic_want_int(v, "options.phy_addr", &addr) < 0)
 *                 return -1;
 *         } else {
 *             return nic_value_error("options: unknown option \"%.*s\"", (int)n, key);
 *         }
 *     }
 */
size_t nic_len(nic_val v);
nic_val nic_item(nic_val list, size_t i);        /* absent if out of range */
nic_val nic_get(nic_val dict, const char *key);  /* absent if not there */
nic_val nic_key_at(nic_val dict, size_t i);      /* pair i's key (a str) */
nic_val nic_value_at(nic_val dict, size_t i);    /* pair i's value */

/*
 * Checked reads, for arguments and options: each stores the value and
 * returns 0, or sets a TypeError naming the parameter and both types
 * ("trace: expected int, got bool"), or "missing argument NAME" for an
 * absent value (nic_item past the end, nic_get of a key not there), and
 * returns -1. A bool is not an int. nic_want_str copies the str into buf
 * (cap bytes, NUL-terminated) and refuses one that does not fit or holds a
 * NUL with a ValueError. nic_want_bytes points *out into the message.
 */
int nic_want_int(nic_val v, const char *name, int64_t *out);
int nic_want_bool(nic_val v, const char *name, bool *out);
int nic_want_str(nic_val v, const char *name, char *buf, size_t cap);
int nic_want_bytes(nic_val v, const char *name, const uint8_t **out, size_t *len);

/*
 * Decoding a message: nic_decode checks msg against ABI.md §3 (the value
 * model, UTF-8, duplicate keys, every limit, no trailing bytes) and points
 * *out at its value. On a refusal it returns -1 and, if err is not NULL,
 * writes a message naming the offending value's path, the way the host
 * does: "invalid value encoding: value[1].ssid: a str is not valid UTF-8"
 * (NUL-terminated, cut to errcap bytes). nic.c decodes every message the
 * host sends; a driver needs this only for CBOR of its own. The cursors
 * point into msg: they are valid while msg is.
 */
int nic_decode(const uint8_t *msg, size_t len, nic_val *out, char *err, size_t errcap);

/*
 * Encoding: a nic_enc writes one message. Containers take their number of
 * items (or pairs) first, then that many values (for a dict: key, value,
 * key, value, ... with str keys, in any order). A message that grows past
 * NIC_MAX_MESSAGE or its buffer, a str that is not UTF-8 (or NULL), a list
 * or tuple of more than NIC_MAX_ITEMS or a dict of more than NIC_MAX_PAIRS
 * sets e->err, the first such error (static text), and writes nothing
 * more. nic.c checks every result against the value model before
 * replying, so a wrong count is an error too, never a broken reply. A
 * message for a host function (nic_report) is not checked by nic.c: look
 * at e->err, and nic_decode it if the counts may be wrong.
 */
typedef struct {
	uint8_t *buf;
	size_t len, cap;
	const char *err; /* NULL, or what went wrong first */
} nic_enc;

void nic_enc_init(nic_enc *e, uint8_t *buf, size_t cap);
void nic_put_none(nic_enc *e);
void nic_put_bool(nic_enc *e, bool b);
void nic_put_int(nic_enc *e, int64_t i);
void nic_put_float(nic_enc *e, double f);
void nic_put_str(nic_enc *e, const char *s);
void nic_put_strn(nic_enc *e, const char *s, size_t len);
void nic_put_bytes(nic_enc *e, const void *b, size_t len);
void nic_put_list(nic_enc *e, size_t items);
void nic_put_tuple(nic_enc *e, size_t items);
void nic_put_dict(nic_enc *e, size_t pairs);
/* Copies a value of a checked message. */
void nic_put_value(nic_enc *e, nic_val v);

/* ------------------------------------------------------------------ */
/* Errors (ABI.md §3.4)                                                */
/* ------------------------------------------------------------------ */

/* Sets the running call's error and returns -1; the last one set before
 * the callback returns -1 is raised. The message is printf-style, UTF-8,
 * cut at NIC_MAX_ERROR bytes on a character boundary; the caller sees it
 * as the exception's text, so name what failed ("lan: no PHY answers at
 * MDIO address 1"). errno_ is used for NIC_OS_ERROR only: a positive
 * NIC_E* (a negated one, as host functions return it, is taken as its
 * negation). A kind other than the four NIC_*_ERROR ones becomes an
 * OSError(EIO) saying so, rather than a raise that breaks the ABI. */
int nic_error(int kind, int errno_, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int nic_value_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int nic_type_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int nic_os_error(int errno_, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int nic_not_implemented(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An OSError for a failed host function: "what: EIO" from rc = -NIC_EIO. */
int nic_errno_error(const char *what, int32_t rc);
/* Forgets an error set by a callback that then recovered. */
void nic_clear_error(void);
/* The name of an errno ("ETIMEDOUT"), or "errno N" (in a static buffer,
 * which the next such call overwrites). */
const char *nic_errno_name(int errno_);

/* ------------------------------------------------------------------ */
/* The driver                                                          */
/* ------------------------------------------------------------------ */

/* A bus the driver needs (ABI.md §3.1; names per class in §8.5). */
typedef struct {
	const char *name;
	const char *kind; /* "spi", "gpio", "uart", "frame", "mdio" or "blob" */
	bool optional;
} nic_bus;

/* The positional and keyword arguments of a call: a list and a dict. */
typedef struct {
	nic_val pos;
	nic_val kw;
} nic_args;

/* nic_takes checks a call's shape as the Go SDK's Args.Takes does: at most
 * max_pos positional arguments and no keywords but those listed
 * (NULL-terminated; keywords may be NULL). On a mismatch it sets
 * MicroPython's TypeError ("scan() got an unexpected keyword argument
 * 'ssid'", "regs() takes no arguments") and returns -1. nic.c checks the
 * shapes of active, disconnect, isconnected, status and config itself;
 * connect, scan and call pass theirs on for the driver to check. The
 * arguments themselves are read with nic_item(a.pos, i) and
 * nic_get(a.kw, "name"). */
int nic_takes(nic_args a, const char *method, size_t max_pos, const char *const *keywords);

/* One frame of a batch. */
typedef struct {
	const uint8_t *data;
	size_t len;
} nic_frame;

typedef struct nic_driver {
	/* The description (ABI.md §3.1). interfaces, buses and features end
	 * with NULL ({0} for buses); features may be NULL. */
	const char *class_name; /* "LAN", "WIZNET5K", "WLAN" or "PPP" */
	const char *name;
	const char *version; /* may be NULL */
	const char *const *interfaces;
	const nic_bus *buses;
	const char *const *features;

	/* Required: nic_describe fails naming any of these left NULL, and the
	 * host refuses the plugin. start runs once per instance, after the
	 * host checked the grants; the start info is then readable
	 * (nic_bus_handle, nic_mac, nic_options, ...) and nic.c has registered
	 * its transmit buffer. -1 fails the start (a bad option, a missing
	 * bus). */
	int (*start)(void);
	/* active(): *up = whether iface is active (false if left alone). */
	int (*active)(int iface, bool *up);
	/* active(up): start bringing iface up or take it down; do not wait. */
	int (*set_active)(int iface, bool up);
	/* isconnected(): the medium only (ABI.md §4). */
	int (*isconnected)(int iface, bool *connected);
	/* status() (param NULL; status('') too) or status(param): write the
	 * class's value, or refuse a param the class does not have with a
	 * ValueError naming it. */
	int (*status)(int iface, const char *param, nic_enc *out);
	/* config(name): write the value, or a ValueError naming an unknown
	 * name. */
	int (*config_get)(int iface, const char *name, nic_enc *out);
	/* config(k=v, ...): kw is a dict of at least one pair; check every
	 * key before applying any, so a refused call changes nothing. The
	 * host keeps its own keys (trace=str) and checks mac (6 bytes, a
	 * unicast address) before the driver sees them; a mac the driver
	 * accepts is the interface's new address (copy it: nic_mac() keeps
	 * the start info's). */
	int (*config_set)(int iface, nic_val kw);
	/* Advance state machines; events are hints (NIC_EVENT_*). An error
	 * is only logged by the host. */
	int (*poll)(uint32_t events);
	/* Send one frame: 0 taken, NIC_TX_BUSY (the host keeps it and every
	 * one behind it until after the next poll), or -1 with an error (the
	 * host drops the frame and counts it). While inactive or with the link
	 * down: nic_os_error(NIC_EAGAIN, ...), not busy (ABI.md §9). frame is
	 * valid until the callback returns. */
	int (*transmit)(int iface, const uint8_t *frame, size_t len);

	/* Optional (NULL: see the top of this file). */
	/* Send frames in order (1 to NIC_MAX_TX_BATCH) and return how many
	 * were taken: count; k < count (the host offers frames[k:] again at
	 * once, so an error for frames[k] is raised when it comes first); 0
	 * for busy (all kept until after the next poll); or -1 with an error
	 * refusing frames[0] (dropped and counted; the rest offered again).
	 * An error set with a k >= 0 is dropped; another result is an
	 * OSError(EIO) refusing frames[0]. NULL: nic.c calls transmit per
	 * frame, up to the first it does not take. */
	int (*transmit_batch)(int iface, const nic_frame *frames, int count);
	int (*connect)(int iface, nic_args args);
	int (*disconnect)(int iface);
	int (*scan)(int iface, nic_args args, nic_enc *out);
	/* A class-specific method (regs(), ...); check its arguments with
	 * nic_takes. For a name it does not know: return nic_no_method(name).
	 * NULL: every call is NotImplementedError "CLASS has no method
	 * NAME()". */
	int (*call)(int iface, const char *name, nic_args args, nic_enc *out);
} nic_driver;

/* Registers the driver; NIC_REGISTER(drv) does it from a constructor,
 * which the reactor's _initialize runs before any export. drv is the name
 * of a nic_driver variable (an identifier: the macro takes its address and
 * names the constructor after it) with static storage; nic.c keeps the
 * pointer for the instance's life and reads the callbacks at each call.
 * One driver per plugin: a second registration replaces the first. */
void nic_register(const nic_driver *d);
#define NIC_REGISTER(drv)                                              \
	__attribute__((constructor)) static void nic_register_##drv(void) { \
		nic_register(&(drv));                                          \
	}

/* NotImplementedError "CLASS has no method NAME()", for call(). */
int nic_no_method(const char *name);

/* ------------------------------------------------------------------ */
/* The start info (ABI.md §3.2), readable from start() on              */
/* ------------------------------------------------------------------ */

/* The handle of a granted bus (a positive int), or -NIC_EBADF if it was
 * not granted: an optional bus the operator left out, say. */
int32_t nic_bus_handle(const char *name);
/* The MAC address the host assigned to iface in the start info (6 bytes),
 * or NULL for another iface. A later config(mac=...) reaches config_set,
 * not this. */
const uint8_t *nic_mac(int iface);
/* The driver options (a dict; absent, which nic_len says is empty, if the
 * configuration has none). Free-form: the driver defines and checks its
 * keys (see nic_len above for a loop), refusing unknown ones in start. */
nic_val nic_options(void);
/* hostname, country as at the instance's start (NUL-terminated; "" if
 * absent). The host does not tell a running instance of later changes,
 * except a country change to a driver declaring the "country" feature
 * (a call("country", code)). */
const char *nic_hostname(void);
const char *nic_country(void);
/* The PHY mode, or 0 if never set. */
int nic_phy_mode(void);
/* Whether the host lists a feature ("tx_batch", "rx_batch", "blob"). */
bool nic_host_has(const char *feature);
/* The whole start info. */
nic_val nic_start_info(void);

/* ------------------------------------------------------------------ */
/* Host functions (ABI.md §5)                                          */
/* ------------------------------------------------------------------ */

#define NIC_IMPORT(name) __attribute__((import_module("nic"), import_name(name)))

/* Time. */
NIC_IMPORT("now") int64_t nic_now(void);
NIC_IMPORT("sleep") int32_t nic_sleep(int64_t ns);
NIC_IMPORT("wake_at") int32_t nic_wake_at(int64_t ns);
/* A timer poll ns from now; a negative ns cancels the request. */
int32_t nic_wake_after(int64_t ns);

/* The log: a line at a level (rate-limited by the host). */
void nic_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A line for one frame at debug level, for config(trace=...): "lan: tx 342
 * bytes 0a1b2c3d4e5f > ffffffffffff type 0800", with NIC_TRACE_FULL in
 * trace the first 128 bytes in hex. It logs whatever the flags: the driver
 * calls it only when its trace has NIC_TRACE_TX (or NIC_TRACE_RX) set. */
void nic_log_frame(int64_t trace, const char *driver, const char *dir, const uint8_t *frame, size_t len);
/* Checks a config(trace=N) value the way ABI.md §8 says: an int of the
 * NIC_TRACE_* flags; TypeError for another type (True included),
 * ValueError for other bits. */
int nic_parse_trace(nic_val v, int64_t *out);

/* The network core. */
NIC_IMPORT("link") int32_t nic_link(int32_t iface, int32_t up, int32_t type, int32_t mtu);
NIC_IMPORT("report") int32_t nic_report(int32_t iface, const void *cbor, int32_t len);
/* Hands a received frame (1 to NIC_MAX_FRAME bytes) to the core; it is
 * copied. With the host feature rx_batch, frames are batched (at most
 * NIC_MAX_RX_BATCH frames and 64 KiB a batch) and pushed with
 * rx_push_batch when a batch is full, at nic_flush, and at the end of the
 * export: frames the core's queue has no room for are then dropped and
 * counted by the host, not reported here. Without the feature each frame
 * is one rx_push, and a full queue is -NIC_ENOBUFS. Returns 0 or a
 * negated errno (-NIC_EINVAL for 0 bytes, -NIC_EMSGSIZE, -NIC_ENODEV). */
int32_t nic_deliver(int iface, const void *frame, size_t len);
/* Pushes batched frames now; 0 or the first error. */
int32_t nic_flush(void);

/* Frame ports. nic_frame_read copies the next received frame into buf and
 * returns its length, 0 if none waits, -NIC_EMSGSIZE if it was longer than
 * cap (it is dropped: read on). An Ethernet MAC's buffer of 1536 bytes
 * holds any frame of MTU 1500, a VLAN tag included. Transmitted frames
 * arrive in the transmit buffer nic.c registers (NIC_TX_BUFFER bytes) and
 * reach the driver's transmit callbacks as pointers into it. */
NIC_IMPORT("frame_read") int32_t nic_frame_read(int32_t h, void *buf, int32_t cap);
NIC_IMPORT("frame_write") int32_t nic_frame_write(int32_t h, const void *frame, int32_t len);

/* MDIO: a register value 0..0xffff, or a negated errno. */
NIC_IMPORT("mdio_read") int32_t nic_mdio_read(int32_t h, int32_t phy, int32_t reg);
NIC_IMPORT("mdio_write") int32_t nic_mdio_write(int32_t h, int32_t phy, int32_t reg, int32_t value);

/* SPI: one record per operation; see ABI.md §5 SPI. */
#define NIC_SPI_KEEP_CS 1u
typedef struct {
	const void *w; /* bytes to clock out, or NULL with w_len 0 */
	uint32_t w_len;
	void *r; /* where the bytes clocked in go, or NULL with r_len 0 */
	uint32_t r_len;
	uint32_t flags;
} nic_spi_op;
NIC_IMPORT("spi_transact") int32_t nic_spi_transact(int32_t h, const nic_spi_op *ops, int32_t n);

/* GPIO. */
NIC_IMPORT("gpio_read") int32_t nic_gpio_read(int32_t h);
NIC_IMPORT("gpio_write") int32_t nic_gpio_write(int32_t h, int32_t level);
NIC_IMPORT("gpio_watch") int32_t nic_gpio_watch(int32_t h, int32_t edge);
NIC_IMPORT("gpio_edges") int32_t nic_gpio_edges(int32_t h);

/* UART. */
NIC_IMPORT("uart_read") int32_t nic_uart_read(int32_t h, void *buf, int32_t cap);
NIC_IMPORT("uart_write") int32_t nic_uart_write(int32_t h, const void *buf, int32_t len);

/* Blobs (host feature "blob"). */
NIC_IMPORT("blob_size") int64_t nic_blob_size(int32_t h);
NIC_IMPORT("blob_read") int32_t nic_blob_read(int32_t h, int64_t offset, void *buf, int32_t len);

#ifdef __cplusplus
}
#endif
#endif /* NICHOST_NIC_H */
