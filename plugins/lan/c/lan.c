/*
 * lan.c: nichost's LAN driver in C, on the C SDK (abi/c/nic.h). An Ethernet
 * MAC whose frames move through a granted frame port, with its PHY managed
 * over a granted MDIO bus: the LAN8720 family or a Microchip KSZ8081,
 * chosen by the phy_type option or found by its identifier.
 *
 * It behaves as the Go driver in plugins/lan/driver does, step for step
 * (plugins/lan/README.md describes both, ABI.md §8.1 the class): the same
 * conformance suite holds both to the class's contract. The PHY is a
 * poll-driven state machine: active(True) finds the PHY, starts a soft
 * reset and returns; nic_poll waits for the reset, starts
 * auto-negotiation, waits for the link and watches it, reporting every
 * change to the core.
 */
#include <stdio.h>
#include <string.h>

#include "nic.h"

#define MS 1000000LL

/* Timing of the PHY state machine, in ns. */
#define RESET_FIRST (1 * MS)     /* first look at BMCR.RESET */
#define RESET_POLL (10 * MS)     /* later looks */
#define RESET_TIMEOUT (600 * MS) /* IEEE 802.3 allows 0.5 s; then reset again */
#define LINK_POLL (50 * MS)      /* link watch, and auto-negotiation progress */
#define RETRY_AFTER (1000 * MS)  /* after an MDIO error, or while the PHY is silent */
#define IDLE_POLL (1000 * MS)    /* powered down: nothing to watch */

#define MTU 1500
#define RX_BUF 1536 /* a VLAN-tagged 1500-byte payload is 1518 bytes */
#define MAX_RX_PER_POLL 256

/* status() codes, as MicroPython's LAN numbers them (ABI.md §8.1). */
enum { STATUS_LINK_DOWN = 0, STATUS_LINK_NO_IF = 1, STATUS_LINK_ACTIVE = 2 };

/* Clause 22 registers and bits (IEEE 802.3 §22.2.4). */
enum {
	REG_BMCR = 0,
	REG_BMSR = 1,
	REG_PHYID1 = 2,
	REG_PHYID2 = 3,
	REG_ANAR = 4,

	BMCR_RESET = 1 << 15,
	BMCR_AN_ENABLE = 1 << 12,
	BMCR_POWER_DOWN = 1 << 11,
	BMCR_AN_RESTART = 1 << 9,

	BMSR_AN_COMPLETE = 1 << 5,
	BMSR_LINK = 1 << 2, /* latching low: read twice for the current state */

	ANAR_ALL = 0x01E1, /* 10/100, half and full duplex, IEEE 802.3 selector */
	NO_PHY = 0xFFFF,   /* what an MDIO read of an absent PHY returns */
};

/* LAN8720A vendor registers (its datasheet). */
enum {
	LAN87_SMR = 18,
	LAN87_ISR = 29,
	LAN87_PSCSR = 31,
	SMR_MODE_MASK = 7 << 5,
	SMR_MODE_PDOWN = 6 << 5,  /* MODE 110: the PHY leaves reset powered down */
	SMR_MODE_ALLCAP = 7 << 5, /* MODE 111: all capable, auto-negotiation on */
	PSCSR_FULL = 1 << 4,
	PSCSR_100 = 1 << 3,
};

/* KSZ8081 vendor registers (its datasheet, DS00002199). */
enum {
	KSZ_ICSR = 0x1B,  /* interrupt control/status: low byte clears on read */
	KSZ_PHYC1 = 0x1E, /* PHY control 1: bits 2:0 the operation mode */
	PHYC1_MODE_MASK = 7,
};

/* A register regs() names; the others it returns are keyed by number. */
typedef struct {
	int reg;
	const char *name;
} reg_name;

static const reg_name lan87_names[] = {
	{0, "bmcr"}, {1, "bmsr"}, {2, "phyid1"}, {3, "phyid2"}, {4, "anar"}, {5, "anlpar"}, {6, "aner"},
	{17, "mcsr"}, {18, "smr"}, {26, "secr"}, {27, "csir"}, {29, "isr"}, {30, "imr"}, {31, "pscsr"},
	{-1, NULL},
};

static const reg_name ksz_names[] = {
	{0, "bmcr"}, {1, "bmsr"}, {2, "phyid1"}, {3, "phyid2"}, {4, "anar"}, {5, "anlpar"}, {6, "aner"},
	{7, "annp"}, {8, "lpnp"}, {16, "drc"}, {17, "afec1"}, {21, "rxerc"}, {22, "omso"}, {23, "omss"},
	{24, "exc"}, {27, "icsr"}, {29, "linkmd"}, {30, "phyc1"}, {31, "phyc2"},
	{-1, NULL},
};

/* A PHY model the driver knows. */
typedef struct {
	const char *type; /* what config('phy_type') reads */
	uint16_t id1, id2, id2_mask;
	int isr;         /* the clear-on-read interrupt register, read after reset */
	bool smr_fixup;  /* set SMR MODE 111 before a reset (LAN8720) */
	int low_last, high_first; /* regs(): registers 0..low_last and high_first..31 */
	const reg_name *names;
} phy_model;

static const phy_model lan87 = {"LAN8720", 0x0007, 0xC0F0, 0xFFF0, LAN87_ISR, true, 6, 17, lan87_names};
static const phy_model ksz8081 = {"KSZ8081", 0x0022, 0x1560, 0xFFF0, KSZ_ICSR, false, 8, 16, ksz_names};

/* The phy_type option's values, any case, and the model each selects. */
static const struct {
	const char *name;
	const phy_model *model;
} phy_types[] = {
	{"LAN8720", &lan87}, {"LAN8720A", &lan87}, {"LAN8710", &lan87}, {"LAN8710A", &lan87}, {"KSZ8081", &ksz8081},
};
#define N_PHY_TYPES (sizeof phy_types / sizeof phy_types[0])
static const char phy_type_list[] = "LAN8720, LAN8720A, LAN8710, LAN8710A, KSZ8081";

typedef enum { ST_OFF, ST_RESET, ST_LINK_WAIT, ST_UP, ST_POWER_DOWN } state_t;

static const char *const state_names[] = {"off", "reset", "waiting for link", "up", "powered down"};

static struct {
	int32_t mdio, port;
	int addr;                 /* the PHY's MDIO address, -1 until found */
	bool addr_opt;            /* addr comes from options.phy_addr */
	const phy_model *want;    /* options.phy_type's model; NULL: any known PHY */
	char want_type[16];       /* options.phy_type as given, upper case */
	const phy_model *model;   /* the PHY found */
	uint8_t mac[6];
	bool low_power;
	int64_t trace;

	bool active;
	state_t state;
	int64_t due;   /* host time of the next state-machine step */
	int64_t since; /* when the current reset began */
	bool dropped;  /* a BMSR read outside the link watch saw a latched failure */
	bool silent;   /* the PHY stopped answering (reads 0xffff) */
	bool more;     /* frames were left in the port at the end of a poll */
	int speed;     /* 10 or 100 while up */
	bool full;
	uint8_t buf[RX_BUF];
} d;

/* ------------------------------------------------------------------ */
/* MDIO                                                                */
/* ------------------------------------------------------------------ */

/* phy_read reads register reg of the PHY at d.addr into *v. */
static int phy_read(int reg, uint16_t *v) {
	int32_t rc = nic_mdio_read(d.mdio, d.addr, reg);
	if (rc < 0)
		return nic_os_error(-rc, "lan: reading PHY register %d: mdio_read: %s", reg, nic_errno_name(-rc));
	*v = (uint16_t)rc;
	return 0;
}

static int phy_write(int reg, uint16_t v) {
	int32_t rc = nic_mdio_write(d.mdio, d.addr, reg, v);
	if (rc < 0)
		return nic_os_error(-rc, "lan: writing PHY register %d: mdio_write: %s", reg, nic_errno_name(-rc));
	return 0;
}

static const phy_model *model_of(uint16_t id1, uint16_t id2) {
	if (id1 == lan87.id1 && (id2 & lan87.id2_mask) == lan87.id2)
		return &lan87;
	if (id1 == ksz8081.id1 && (id2 & ksz8081.id2_mask) == ksz8081.id2)
		return &ksz8081;
	return NULL;
}

/* What the identifier at an address says. */
typedef struct {
	enum { PHY_OK, PHY_NONE, PHY_OTHER, PHY_BUS } why;
	int addr;
	int32_t id1, id2; /* for PHY_OTHER; for PHY_BUS id2 is the negated errno */
	const phy_model *model;
} probe;

/* probe_phy reads the identifier at addr: PHY_OK and the model if it is one
 * the driver is configured for. */
static probe probe_phy(int addr) {
	probe p = {.addr = addr};
	p.id1 = nic_mdio_read(d.mdio, addr, REG_PHYID1);
	p.id2 = p.id1 < 0 ? p.id1 : nic_mdio_read(d.mdio, addr, REG_PHYID2);
	if (p.id2 < 0) {
		p.why = PHY_BUS;
	} else if ((p.id1 == NO_PHY && p.id2 == NO_PHY) || (p.id1 == 0 && p.id2 == 0)) {
		p.why = PHY_NONE;
	} else {
		p.model = model_of((uint16_t)p.id1, (uint16_t)p.id2);
		p.why = p.model != NULL && (d.want == NULL || p.model == d.want) ? PHY_OK : PHY_OTHER;
	}
	return p;
}

/* probe_error raises what a failed probe means: an OSError EIO-or-so for
 * the bus, ETIMEDOUT for no PHY, ENODEV for another PHY. */
static int probe_error(probe p) {
	switch (p.why) {
	case PHY_OK:
		return 0;
	case PHY_BUS:
		return nic_os_error(-p.id2, "lan: reading the PHY ID: mdio_read: %s", nic_errno_name(-p.id2));
	case PHY_NONE:
		return nic_os_error(NIC_ETIMEDOUT, "lan: no PHY answers at MDIO address %d (options.phy_addr)", p.addr);
	case PHY_OTHER:
		break;
	}
	char is[32] = "";
	if (p.model != NULL) {
		strcpy(is, ", a ");
		strcat(is, p.model->type);
	}
	if (d.want == NULL)
		return nic_os_error(NIC_ENODEV, "lan: the PHY at MDIO address %d has ID %04x:%04x, not a PHY this driver supports (LAN8720 %04x:%03xX, KSZ8081 %04x:%03xX); check options.phy_type and options.phy_addr",
		                    p.addr, (unsigned)p.id1, (unsigned)p.id2, lan87.id1, (unsigned)(lan87.id2 >> 4), ksz8081.id1, (unsigned)(ksz8081.id2 >> 4));
	return nic_os_error(NIC_ENODEV, "lan: the PHY at MDIO address %d has ID %04x:%04x%s, not a %s (%04x:%03xX); check options.phy_type and options.phy_addr",
	                    p.addr, (unsigned)p.id1, (unsigned)p.id2, is, d.want_type, d.want->id1, (unsigned)(d.want->id2 >> 4));
}

/* find_phy sets d.addr and d.model: the PHY at options.phy_addr, or the
 * first one of the configured type found scanning addresses 0 to 31. */
static int find_phy(void) {
	probe p;
	if (d.addr_opt || d.addr >= 0) {
		p = probe_phy(d.addr);
		if (p.why == PHY_OK) {
			d.model = p.model;
			return 0;
		}
		if (d.addr_opt)
			return probe_error(p);
	}
	d.addr = -1;
	probe other = {.why = PHY_NONE};
	for (int a = 0; a < 32; a++) {
		p = probe_phy(a);
		if (p.why == PHY_OK) {
			d.addr = a;
			d.model = p.model;
			return 0;
		}
		if (p.why == PHY_BUS)
			return probe_error(p);
		if (p.why == PHY_OTHER && other.why != PHY_OTHER)
			other = p;
	}
	if (other.why == PHY_OTHER)
		return probe_error(other);
	return nic_os_error(NIC_ETIMEDOUT, "lan: no PHY answers on the MDIO bus (every address 0-31 reads ID 0xffff)");
}

/* ------------------------------------------------------------------ */
/* The state machine                                                   */
/* ------------------------------------------------------------------ */

static void set_state(state_t s) {
	state_t old = d.state;
	d.state = s;
	if (old == s)
		return;
	if (d.trace & NIC_TRACE_EVENTS)
		nic_log(NIC_LOG_DEBUG, "lan: %s -> %s", state_names[old], state_names[s]);
	if (s == ST_UP) {
		nic_log(NIC_LOG_INFO, "lan: link up, %d Mb/s %s duplex", d.speed, d.full ? "full" : "half");
		int32_t rc = nic_link(0, 1, NIC_LINK_ETHERNET, MTU);
		if (rc < 0)
			nic_log(NIC_LOG_WARN, "lan: reporting link up: %s", nic_errno_name(-rc));
	} else if (old == ST_UP) {
		nic_log(NIC_LOG_INFO, "lan: link down");
		int32_t rc = nic_link(0, 0, NIC_LINK_ETHERNET, MTU);
		if (rc < 0)
			nic_log(NIC_LOG_WARN, "lan: reporting link down: %s", nic_errno_name(-rc));
	}
}

/* arm asks the host for the next poll of the state machine. */
static void arm(void) {
	if (!d.active)
		return;
	if (d.more) {
		nic_wake_after(0);
		return;
	}
	int64_t wait = d.due - nic_now();
	nic_wake_after(wait > 0 ? wait : 0);
}

/* phy_reset starts a soft reset. A LAN8720 whose MODE straps say
 * power-down would leave reset powered down, so MODE is set to "all
 * capable" first, as Linux's LAN87xx driver does. */
static int phy_reset(void) {
	if (d.model->smr_fixup) {
		uint16_t smr;
		if (phy_read(LAN87_SMR, &smr) < 0)
			return -1;
		if ((smr & SMR_MODE_MASK) == SMR_MODE_PDOWN && phy_write(LAN87_SMR, (uint16_t)((smr & ~SMR_MODE_MASK) | SMR_MODE_ALLCAP)) < 0)
			return -1;
	}
	if (phy_write(REG_BMCR, BMCR_RESET) < 0)
		return -1;
	int64_t now = nic_now();
	set_state(ST_RESET);
	d.since = now;
	d.due = now + RESET_FIRST;
	return 0;
}

/* step_reset waits for BMCR.RESET to clear, then configures the PHY. */
static int step_reset(int64_t now) {
	uint16_t bmcr;
	if (phy_read(REG_BMCR, &bmcr) < 0)
		return -1;
	if (bmcr & BMCR_RESET) {
		if (now - d.since < RESET_TIMEOUT) {
			d.due = now + RESET_POLL;
			return 0;
		}
		nic_log(NIC_LOG_WARN, "lan: the PHY at MDIO address %d is still in reset after 600ms; resetting it again", d.addr);
		return phy_reset();
	}
	uint16_t isr;
	if (phy_read(d.model->isr, &isr) < 0) /* acknowledge old interrupt sources */
		return -1;
	if (phy_write(REG_ANAR, ANAR_ALL) < 0)
		return -1;
	uint16_t v = BMCR_AN_ENABLE | BMCR_AN_RESTART;
	state_t next = ST_LINK_WAIT;
	if (d.low_power) {
		v = BMCR_AN_ENABLE | BMCR_POWER_DOWN;
		next = ST_POWER_DOWN;
	}
	if (phy_write(REG_BMCR, v) < 0)
		return -1;
	set_state(next);
	d.due = now + LINK_POLL;
	return 0;
}

/* resolved reads the negotiated speed and duplex: 1 if known, 0 if the PHY
 * does not say yet. */
static int resolved(void) {
	uint16_t v;
	if (d.model == &ksz8081) {
		if (phy_read(KSZ_PHYC1, &v) < 0)
			return -1;
		switch (v & PHYC1_MODE_MASK) {
		case 1: d.speed = 10, d.full = false; return 1;
		case 2: d.speed = 100, d.full = false; return 1;
		case 5: d.speed = 10, d.full = true; return 1;
		case 6: d.speed = 100, d.full = true; return 1;
		}
		return 0; /* still negotiating */
	}
	if (phy_read(LAN87_PSCSR, &v) < 0)
		return -1;
	d.speed = (v & PSCSR_100) ? 100 : 10;
	d.full = (v & PSCSR_FULL) != 0;
	return 1;
}

/* watch_link reads BMSR twice: the first read returns the latched value (0
 * if the link failed since the last read, however briefly), the second the
 * current one. A failure is reported even if the link is already back, so
 * that the core renews what it holds (DHCP). */
static int watch_link(int64_t now) {
	d.due = now + LINK_POLL;
	uint16_t first, cur;
	if (phy_read(REG_BMSR, &first) < 0 || phy_read(REG_BMSR, &cur) < 0)
		return -1;
	if (cur == NO_PHY) {
		if (!d.silent)
			nic_log(NIC_LOG_WARN, "lan: the PHY at MDIO address %d stopped answering", d.addr);
		d.silent = true;
		set_state(ST_LINK_WAIT);
		d.due = now + RETRY_AFTER;
		return 0;
	}
	if (d.silent) {
		nic_log(NIC_LOG_INFO, "lan: the PHY at MDIO address %d answers again", d.addr);
		d.silent = false;
	}
	bool failed = d.dropped || !(first & BMSR_LINK);
	d.dropped = false;
	if (d.state == ST_UP && failed)
		set_state(ST_LINK_WAIT);
	if (!(cur & BMSR_LINK) || !(cur & BMSR_AN_COMPLETE)) {
		set_state(ST_LINK_WAIT);
		return 0;
	}
	if (d.state != ST_UP) {
		int r = resolved();
		if (r < 0)
			return -1;
		if (r > 0)
			set_state(ST_UP);
		else if (d.trace & NIC_TRACE_EVENTS)
			nic_log(NIC_LOG_DEBUG, "lan: the %s reports a link but no speed and duplex yet", d.model->type);
	}
	return 0;
}

static int step(int64_t now) {
	int rc = 0;
	switch (d.state) {
	case ST_RESET:
		rc = step_reset(now);
		break;
	case ST_LINK_WAIT:
	case ST_UP:
		rc = watch_link(now);
		break;
	case ST_POWER_DOWN:
		d.due = now + IDLE_POLL;
		break;
	case ST_OFF:
		break;
	}
	if (rc < 0)
		d.due = now + RETRY_AFTER;
	return rc;
}

/* read_bmsr reads BMSR outside the link watch, keeping a latched link
 * failure for the watch to report. */
static int read_bmsr(uint16_t *v) {
	if (phy_read(REG_BMSR, v) < 0)
		return -1;
	if (*v != NO_PHY && !(*v & BMSR_LINK) && d.state == ST_UP)
		d.dropped = true;
	return 0;
}

/* phy_link: whether the PHY has a link of its own, for status() while
 * inactive. Any failure counts as no link. */
static bool phy_link(void) {
	uint16_t v;
	bool ok = (d.addr >= 0 || find_phy() == 0) && read_bmsr(&v) == 0 && read_bmsr(&v) == 0 && v != NO_PHY && (v & BMSR_LINK);
	nic_clear_error();
	return ok;
}

/* set_low_power powers the PHY down (on) or up. While a reset is under
 * way, or before the PHY was found, the setting waits for the PHY's
 * configuration after reset. */
static int set_low_power(bool on) {
	if (on == d.low_power)
		return 0;
	if (d.state == ST_RESET || d.addr < 0) {
		d.low_power = on;
		return 0;
	}
	uint16_t bmcr;
	if (phy_read(REG_BMCR, &bmcr) < 0)
		return -1;
	if (bmcr == NO_PHY) {
		d.low_power = on; /* nobody answers: applied after the next reset */
		return 0;
	}
	if (on) {
		bmcr |= BMCR_POWER_DOWN;
	} else {
		bmcr &= (uint16_t)~BMCR_POWER_DOWN;
		if (bmcr & BMCR_AN_ENABLE)
			bmcr |= BMCR_AN_RESTART;
	}
	if (phy_write(REG_BMCR, bmcr) < 0)
		return -1;
	d.low_power = on;
	if (!d.active)
		return 0;
	set_state(on ? ST_POWER_DOWN : ST_LINK_WAIT);
	d.due = nic_now() + (on ? IDLE_POLL : LINK_POLL);
	arm();
	return 0;
}

/* ------------------------------------------------------------------ */
/* Frames                                                              */
/* ------------------------------------------------------------------ */

/* accept is the MAC's address filter: our unicast address, and every
 * group (multicast or broadcast) address. */
static bool accept(const uint8_t *f, size_t n) { return n >= 14 && ((f[0] & 1) || memcmp(f, d.mac, 6) == 0); }

/* receive reads the port's queued frames, at most MAX_RX_PER_POLL. While
 * active with the link up, frames the filter passes go to the core; the
 * rest, and everything otherwise, is discarded, as a MAC whose receiver
 * is off would. */
static int receive(void) {
	d.more = false;
	for (int i = 0; i < MAX_RX_PER_POLL; i++) {
		int32_t n = nic_frame_read(d.port, d.buf, sizeof d.buf);
		if (n == -NIC_EMSGSIZE)
			continue; /* longer than RX_BUF: the host dropped it */
		if (n < 0)
			return nic_os_error(-n, "lan: reading the frame port: frame_read: %s", nic_errno_name(-n));
		if (n == 0)
			return 0;
		if (!d.active || d.state != ST_UP || !accept(d.buf, (size_t)n))
			continue;
		if (d.trace & NIC_TRACE_RX)
			nic_log_frame(d.trace, "lan", "rx", d.buf, (size_t)n);
		/* An error here (-ENOBUFS) means the core dropped the frame; the
		 * host counts it. */
		nic_deliver(0, d.buf, (size_t)n);
	}
	d.more = d.active;
	return 0;
}

static int check_iface(int iface) {
	if (iface != 0)
		return nic_value_error("lan has one interface (0), not %d", iface);
	return 0;
}

static int transmit(int iface, const uint8_t *f, size_t n) {
	if (check_iface(iface) < 0)
		return -1;
	if (!d.active || d.state != ST_UP)
		return nic_os_error(NIC_EAGAIN, "lan: the link is down; frame dropped");
	if (d.trace & NIC_TRACE_TX)
		nic_log_frame(d.trace, "lan", "tx", f, n);
	int32_t rc = nic_frame_write(d.port, f, (int32_t)n);
	if (rc < 0)
		return nic_os_error(-rc, "lan: writing to the frame port: frame_write: %s", nic_errno_name(-rc));
	return 0;
}

/* transmit_batch sends the frames in order, one frame_write each, in the
 * one export call the host makes for the batch: the MAC has no queue of
 * its own, so the batch saves export calls, not writes. */
static int transmit_batch(int iface, const nic_frame *frames, int count) {
	for (int i = 0; i < count; i++)
		if (transmit(iface, frames[i].data, frames[i].len) < 0)
			return i > 0 ? i : -1;
	return count;
}

/* ------------------------------------------------------------------ */
/* The driver's callbacks                                              */
/* ------------------------------------------------------------------ */

static int upper_type(nic_val v, char *out, size_t cap) {
	if (nic_want_str(v, "options.phy_type", out, cap) < 0) {
		if (nic_is(v, NIC_STR)) { /* too long, or a NUL: no type of ours */
			nic_clear_error();
			return 1;
		}
		return -1;
	}
	for (char *p = out; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	return 0;
}

static int start(void) {
	d.mdio = nic_bus_handle("mdio");
	d.port = nic_bus_handle("port");
	if (d.mdio < 0)
		return nic_os_error(NIC_EBADF, "bus \"mdio\" was not granted");
	if (d.port < 0)
		return nic_os_error(NIC_EBADF, "bus \"port\" was not granted");
	memcpy(d.mac, nic_mac(0), 6);
	d.addr = -1;
	nic_val opts = nic_options();
	for (size_t i = 0; i < nic_len(opts); i++) {
		nic_val k = nic_key_at(opts, i), v = nic_value_at(opts, i);
		if (nic_str_is(k, "phy_addr")) {
			int64_t n;
			if (nic_want_int(v, "options.phy_addr", &n) < 0)
				return -1;
			if (n < 0 || n > 31)
				return nic_value_error("options.phy_addr: %lld is not an MDIO address (0..31)", (long long)n);
			d.addr = (int)n;
			d.addr_opt = true;
		} else if (nic_str_is(k, "phy_type")) {
			char t[16];
			int rc = upper_type(v, t, sizeof t);
			if (rc < 0)
				return -1;
			for (size_t j = 0; rc == 0 && j < N_PHY_TYPES; j++) {
				if (strcmp(t, phy_types[j].name) == 0) {
					d.want = phy_types[j].model;
					memcpy(d.want_type, t, sizeof d.want_type);
				}
			}
			if (d.want == NULL) {
				size_t n;
				const char *s = nic_str(v, &n);
				return nic_value_error("options.phy_type: \"%.*s\" is not supported by this driver (supported: %s)", (int)(n > 64 ? 64 : n), s, phy_type_list);
			}
		} else if (nic_str_is(k, "fault_injection")) {
			/* The Go SDK's option (ABI.md 7.5): the same configuration
			 * must load this build and the Go one, so it is accepted;
			 * the C SDK injects no faults. */
		} else {
			size_t n;
			const char *s = nic_str(k, &n);
			return nic_value_error("options: unknown option \"%.*s\" (known: phy_addr, phy_type)", (int)(n > 64 ? 64 : n), s);
		}
	}
	return 0;
}

static int active(int iface, bool *up) {
	*up = iface == 0 && d.active;
	return 0;
}

static int set_active(int iface, bool up) {
	if (check_iface(iface) < 0)
		return -1;
	if (up == d.active)
		return 0;
	if (!up) {
		d.active = false;
		set_state(ST_OFF);
		nic_wake_after(-1);
		return 0;
	}
	if (find_phy() < 0 || phy_reset() < 0)
		return -1;
	d.active = true;
	arm();
	return 0;
}

static int isconnected(int iface, bool *c) {
	*c = iface == 0 && d.active && d.state == ST_UP;
	return 0;
}

static int status(int iface, const char *param, nic_enc *out) {
	if (check_iface(iface) < 0)
		return -1;
	if (param != NULL)
		return nic_value_error("unknown status parameter \"%s\"", param);
	int code = STATUS_LINK_DOWN;
	if (d.active && d.state == ST_UP)
		code = STATUS_LINK_ACTIVE;
	else if (!d.active && phy_link())
		code = STATUS_LINK_NO_IF;
	nic_put_int(out, code);
	return 0;
}

#define CONFIG_PARAMS "mac, low_power, trace, phy_addr, phy_type"

static int config_get(int iface, const char *name, nic_enc *out) {
	if (check_iface(iface) < 0)
		return -1;
	if (strcmp(name, "mac") == 0) {
		nic_put_bytes(out, d.mac, 6);
	} else if (strcmp(name, "low_power") == 0) {
		nic_put_bool(out, d.low_power);
	} else if (strcmp(name, "trace") == 0) {
		nic_put_int(out, d.trace);
	} else if (strcmp(name, "phy_addr") == 0) {
		if (d.addr < 0 && find_phy() < 0) {
			nic_clear_error();
			nic_put_none(out);
		} else {
			nic_put_int(out, d.addr);
		}
	} else if (strcmp(name, "phy_type") == 0) {
		/* Auto-detecting: the type of the PHY found, found now if need be. */
		if (d.want == NULL && d.model == NULL && find_phy() < 0)
			nic_clear_error();
		nic_put_str(out, d.want ? d.want_type : d.model ? d.model->type : "AUTO");
	} else {
		return nic_value_error("unknown config parameter \"%s\" (known: %s)", name, CONFIG_PARAMS);
	}
	return 0;
}

static int config_set(int iface, nic_val kw) {
	if (check_iface(iface) < 0)
		return -1;
	const uint8_t *mac = NULL;
	bool set_lp = false, lp = false, set_trace = false;
	int64_t trace = 0;
	for (size_t i = 0; i < nic_len(kw); i++) {
		nic_val k = nic_key_at(kw, i), v = nic_value_at(kw, i);
		size_t n;
		const char *name = nic_str(k, &n);
		if (nic_str_is(k, "mac")) {
			size_t len;
			if (nic_want_bytes(v, "mac", &mac, &len) < 0)
				return -1;
			if (len != 6)
				return nic_value_error("a MAC address is 6 bytes");
		} else if (nic_str_is(k, "low_power")) {
			if (nic_want_bool(v, "low_power", &lp) < 0)
				return -1;
			set_lp = true;
		} else if (nic_str_is(k, "trace")) {
			if (nic_parse_trace(v, &trace) < 0)
				return -1;
			set_trace = true;
		} else if (nic_str_is(k, "phy_addr") || nic_str_is(k, "phy_type")) {
			return nic_value_error("config parameter \"%.*s\" is read-only (set it as a plugin option)", (int)n, name);
		} else {
			return nic_value_error("unknown config parameter \"%.*s\" (known: %s)", (int)(n > 64 ? 64 : n), name, CONFIG_PARAMS);
		}
	}
	/* The only step that can fail (an MDIO write) goes first. */
	if (set_lp && set_low_power(lp) < 0)
		return -1;
	if (mac != NULL)
		memcpy(d.mac, mac, 6);
	if (set_trace)
		d.trace = trace;
	return 0;
}

/* call: regs() returns the PHY's registers as a dict: 0-6 and 17-31 of a
 * LAN8720, 0-8 and 16-31 of a KSZ8081. Reading has the PHY's read side effects: the interrupt
 * register is cleared, and a latched link failure BMSR shows is kept for
 * the link watch. */
static int call(int iface, const char *name, nic_args a, nic_enc *out) {
	if (check_iface(iface) < 0)
		return -1;
	if (strcmp(name, "regs") != 0)
		return nic_no_method(name);
	if (nic_takes(a, "regs", 0, NULL) < 0 || find_phy() < 0)
		return -1;
	const phy_model *m = d.model;
	nic_put_dict(out, (size_t)(m->low_last + 1 + 32 - m->high_first));
	for (int r = 0; r < 32; r++) {
		if (r > m->low_last && r < m->high_first)
			continue;
		uint16_t v;
		if ((r == REG_BMSR ? read_bmsr(&v) : phy_read(r, &v)) < 0)
			return -1;
		const char *key = NULL;
		for (const reg_name *n = m->names; n->name; n++)
			if (n->reg == r)
				key = n->name;
		char num[4];
		if (key == NULL) {
			snprintf(num, sizeof num, "%d", r);
			key = num;
		}
		nic_put_str(out, key);
		nic_put_int(out, v);
	}
	return 0;
}

static int poll(uint32_t events) {
	(void)events; /* hints: every poll looks at the PHY's time and the port */
	int rc = 0;
	if (d.active) {
		int64_t now = nic_now();
		if (now >= d.due)
			rc = step(now);
	}
	if (receive() < 0 && rc == 0)
		rc = -1;
	arm();
	return rc;
}

static const char *const interfaces[] = {"eth", NULL};
static const nic_bus buses[] = {{"port", "frame", false}, {"mdio", "mdio", false}, {0}};

static const nic_driver lan = {
	.class_name = "LAN",
	.name = "lan",
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

NIC_REGISTER(lan)
