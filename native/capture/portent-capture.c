/*
 * portent-capture: the one Portent program that may open a packet capture.
 *
 * Portent gives the right to capture (CAP_NET_RAW and CAP_NET_ADMIN as file capabilities on
 * Linux; setuid root where BPF devices are only root's) to this small program alone, the way
 * Wireshark gives it to dumpcap. It opens the capture, then gives up every privilege before it
 * reads a single packet, and copies what libpcap captured to stdout. It never parses a packet:
 * decoding happens in Portent's unprivileged capture process, which starts this program and
 * reads its output.
 *
 * Usage: portent-capture --interface NAME [--filter EXPR] [--snaplen N] [--buffer-bytes N]
 *                        [--timeout-ms N] [--immediate]
 *        portent-capture --version
 *
 * Output (stdout, little-endian):
 *   header  "PTCAP" u8 version, u16 0, u32 link type (DLT), u32 snaplen      (16 bytes)
 *   packet  u8 'P', u32 captured length, u32 wire length, u32 ts seconds, u32 ts microseconds,
 *           then the captured bytes
 *   stats   u8 'S', u32 ps_recv, u32 ps_drop, u32 ps_ifdrop (pcap_stats since the open)
 * A stats record follows at least every second, on a byte 's' read from stdin, and last of
 * all. End of stdin ends the capture: what is left in the kernel is copied, the last stats
 * written, and the program exits 0.
 *
 * Failures before the header: one line on stderr, "portent-capture: KIND: message", where KIND
 * is usage, no-such-interface, permission-denied, bad-filter, privileges or open-failed, and
 * exit status 2 (usage) or 3 (the rest).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#ifdef __linux__
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#endif

#define PROTOCOL_VERSION 1
#define STATS_EVERY_MS 1000
#define MAX_FILTER 4096
#define MAX_IFACE 64

static void fail(int status, const char *kind, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "portent-capture: %s: ", kind);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(status);
}

static long number_arg(const char *name, const char *text, long min, long max) {
  char *end = NULL;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < min || v > max) {
    fail(2, "usage", "%s must be a whole number from %ld to %ld, got '%s'", name, min, max, text);
  }
  return v;
}

static void put_u32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v & 0xff);
  p[1] = (unsigned char)((v >> 8) & 0xff);
  p[2] = (unsigned char)((v >> 16) & 0xff);
  p[3] = (unsigned char)((v >> 24) & 0xff);
}

/* Writes all of buf or ends the program: the reader is gone (EPIPE) or broken. */
static void write_out(const void *buf, size_t len) {
  if (fwrite(buf, 1, len, stdout) != len) exit(errno == EPIPE ? 0 : 4);
}

static void flush_out(void) {
  if (fflush(stdout) != 0) exit(errno == EPIPE ? 0 : 4);
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes) {
  (void)user;
  unsigned char rec[17];
  rec[0] = 'P';
  put_u32(rec + 1, h->caplen);
  put_u32(rec + 5, h->len);
  put_u32(rec + 9, (uint32_t)h->ts.tv_sec);
  put_u32(rec + 13, (uint32_t)h->ts.tv_usec);
  write_out(rec, sizeof rec);
  write_out(bytes, h->caplen);
}

static void write_stats(pcap_t *p) {
  struct pcap_stat st;
  memset(&st, 0, sizeof st);
  if (pcap_stats(p, &st) != 0) return;
  unsigned char rec[13];
  rec[0] = 'S';
  put_u32(rec + 1, st.ps_recv);
  put_u32(rec + 5, st.ps_drop);
  put_u32(rec + 9, st.ps_ifdrop);
  write_out(rec, sizeof rec);
}

/*
 * Gives up everything that let this program open the capture: the open socket or BPF device
 * keeps working without it. Linux: every capability set emptied (file capabilities, or root's),
 * then no_new_privs. Setuid or setgid installs: back to the caller's own ids. Fails rather than
 * capture with privileges left.
 */
static void drop_privileges(void) {
#ifdef __linux__
  (void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  if (syscall(SYS_capset, &header, data) != 0) fail(3, "privileges", "cannot drop capabilities: %s", strerror(errno));
#endif
  if (getegid() != getgid() && setgid(getgid()) != 0) fail(3, "privileges", "cannot return to group %u: %s", (unsigned)getgid(), strerror(errno));
  if (geteuid() != getuid() && setuid(getuid()) != 0) fail(3, "privileges", "cannot return to user %u: %s", (unsigned)getuid(), strerror(errno));
  if (getuid() != 0 && (setuid(0) == 0 || seteuid(0) == 0)) fail(3, "privileges", "root could be regained after dropping it");
#ifdef __linux__
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail(3, "privileges", "cannot set no_new_privs: %s", strerror(errno));
#endif
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv) {
  const char *iface = NULL;
  const char *filter = "";
  long snaplen = 1536, buffer_bytes = 32L * 1024 * 1024, timeout_ms = 20;
  int immediate = 0;

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *next = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--version") == 0) {
      printf("portent-capture %d %s\n", PROTOCOL_VERSION, pcap_lib_version());
      return 0;
    } else if (strcmp(a, "--immediate") == 0) {
      immediate = 1;
    } else if (next == NULL) {
      fail(2, "usage", "%s needs a value (portent-capture --interface NAME [--filter EXPR] [--snaplen N] [--buffer-bytes N] [--timeout-ms N] [--immediate])", a);
    } else if (strcmp(a, "--interface") == 0) {
      iface = next, i++;
    } else if (strcmp(a, "--filter") == 0) {
      filter = next, i++;
    } else if (strcmp(a, "--snaplen") == 0) {
      snaplen = number_arg(a, next, 64, 65535), i++;
    } else if (strcmp(a, "--buffer-bytes") == 0) {
      buffer_bytes = number_arg(a, next, 65536, 256L * 1024 * 1024), i++;
    } else if (strcmp(a, "--timeout-ms") == 0) {
      timeout_ms = number_arg(a, next, 1, 1000), i++;
    } else {
      fail(2, "usage", "unknown argument '%s'", a);
    }
  }
  if (iface == NULL || iface[0] == '\0') fail(2, "usage", "--interface NAME is required");
  if (strlen(iface) > MAX_IFACE) fail(2, "usage", "interface name longer than %d characters", MAX_IFACE);
  if (strlen(filter) > MAX_FILTER) fail(2, "usage", "filter longer than %d characters", MAX_FILTER);

  signal(SIGPIPE, SIG_IGN);
  /* The parent decides when capture stops (end of stdin); Ctrl-C in its terminal is not for us. */
  signal(SIGINT, SIG_IGN);

  char err[PCAP_ERRBUF_SIZE];
  err[0] = '\0';
  pcap_t *p = pcap_create(iface, err);
  if (p == NULL) fail(3, "open-failed", "%s", err);
  pcap_set_snaplen(p, (int)snaplen);
  pcap_set_promisc(p, 0);
  pcap_set_timeout(p, (int)timeout_ms);
  pcap_set_buffer_size(p, (int)buffer_bytes);
  if (immediate) pcap_set_immediate_mode(p, 1);
  int rc = pcap_activate(p);
  if (rc == PCAP_ERROR_NO_SUCH_DEVICE) fail(3, "no-such-interface", "%s", pcap_geterr(p));
  if (rc == PCAP_ERROR_PERM_DENIED) fail(3, "permission-denied", "%s", pcap_geterr(p));
  if (rc < 0) fail(3, "open-failed", "%s", pcap_geterr(p));

  drop_privileges();

  struct bpf_program prog;
  if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) fail(3, "bad-filter", "%s", pcap_geterr(p));
  if (pcap_setfilter(p, &prog) != 0) fail(3, "bad-filter", "%s", pcap_geterr(p));
  pcap_freecode(&prog);
  if (pcap_setnonblock(p, 1, err) != 0) fail(3, "open-failed", "%s", err);
  int fd = pcap_get_selectable_fd(p);
  if (fd < 0) fail(3, "open-failed", "this platform gives no pollable capture descriptor");

  static char outbuf[1 << 18];
  setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
  unsigned char header[16] = {'P', 'T', 'C', 'A', 'P', PROTOCOL_VERSION, 0, 0};
  put_u32(header + 8, (uint32_t)pcap_datalink(p));
  put_u32(header + 12, (uint32_t)pcap_snapshot(p));
  write_out(header, sizeof header);
  flush_out();

  long long next_stats = now_ms() + STATS_EVERY_MS;
  for (;;) {
    long long wait = next_stats - now_ms();
    struct pollfd fds[2] = {{fd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    int n = poll(fds, 2, wait < 0 ? 0 : (int)wait);
    if (n < 0 && errno != EINTR) fail(3, "open-failed", "poll: %s", strerror(errno));
    int want_stats = 0, ending = 0;
    if (n > 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      char cmd[64];
      ssize_t got = read(STDIN_FILENO, cmd, sizeof cmd);
      if (got <= 0) ending = 1;
      else if (memchr(cmd, 's', (size_t)got) != NULL) want_stats = 1;
    }
    /* Copy whatever the kernel has handed over, on every wake-up (cheap when nothing is there). */
    if (pcap_dispatch(p, -1, on_packet, NULL) == PCAP_ERROR) fail(3, "open-failed", "%s", pcap_geterr(p));
    if (ending || want_stats || now_ms() >= next_stats) {
      write_stats(p);
      next_stats = now_ms() + STATS_EVERY_MS;
    }
    flush_out();
    if (ending) break;
  }
  pcap_close(p);
  return 0;
}
