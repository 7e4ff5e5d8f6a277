/*
 * portent-sockdiag: the kernel's TCP and UDP socket tables over NETLINK_SOCK_DIAG, the interface
 * `ss` uses. Portent's Linux scanner needs it because reading /proc/net/tcp{,6} walks the whole
 * established-connection hash on every read, while an inet_diag dump filtered to LISTEN skips
 * that hash entirely and one filtered to ESTABLISHED skips its empty buckets without locking.
 *
 * Two synchronous functions of (protocol, family, stateMask): dump() gives one object per socket,
 * dumpPacked() one Buffer of fixed-size records (PACKED_RECORD bytes each, layout below), which
 * spares the creation of thousands of objects and strings on a host with many connections: the
 * scanner decodes only the records it has not seen before. Each call is a handful of syscalls,
 * less than a hop through libuv's pool costs. Written against plain Node-API so that one build
 * loads in Node and in Electron alike.
 *
 * Packed record, little-endian: u8 family (4 or 6), u8 state, u16 local port, u16 remote port,
 * u16 zero, u32 inode, u32 uid, 16 bytes local address, 16 bytes remote address (network
 * order; an IPv4 address in the first 4).
 */
#include <stdlib.h>
#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * The kernel sizes each dump datagram by the largest read the socket has seen, capped near
 * 32 KiB, and never below one page; a smaller buffer would truncate datagrams.
 */
#define RECV_BUFFER (32 * 1024)

enum { KEY_STATE, KEY_LOCAL_ADDRESS, KEY_LOCAL_PORT, KEY_REMOTE_ADDRESS, KEY_REMOTE_PORT, KEY_INODE, KEY_UID, KEY_COUNT };
static const char *const KEY_NAMES[KEY_COUNT] = {"state", "localAddress", "localPort", "remoteAddress", "remotePort", "inode", "uid"};

#define PACKED_RECORD 48

/* Where the rows of a reply go: objects in a JavaScript array, or records in a byte buffer. */
struct sink {
  napi_env env;
  /* dump(): the array and its property names. */
  napi_value rows;
  napi_value *keys;
  /* dumpPacked(): a growing buffer. */
  uint8_t *bytes;
  size_t size;
  size_t capacity;
  uint32_t count;
};

/* A failed Node-API call already left a JavaScript exception pending: just unwind. */
#define NAPI_OK(call)                 \
  do {                                \
    if ((call) != napi_ok) return -1; \
  } while (0)

struct dump_request {
  struct nlmsghdr header;
  struct inet_diag_req_v2 body;
};

/* Sends the dump request; returns 0 or an errno. */
static int send_request(int fd, uint8_t protocol, uint8_t family, uint32_t state_mask, uint32_t seq) {
  struct dump_request request;
  memset(&request, 0, sizeof request);
  request.header.nlmsg_len = sizeof request;
  request.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  request.header.nlmsg_seq = seq;
  request.body.sdiag_family = family;
  request.body.sdiag_protocol = protocol;
  request.body.idiag_states = state_mask;

  struct sockaddr_nl kernel;
  memset(&kernel, 0, sizeof kernel);
  kernel.nl_family = AF_NETLINK;
  for (;;) {
    ssize_t sent = sendto(fd, &request, sizeof request, 0, (struct sockaddr *)&kernel, sizeof kernel);
    if (sent == (ssize_t)sizeof request) return 0;
    if (sent >= 0) return EIO;
    if (errno != EINTR) return errno;
  }
}

/* Appends one socket to `rows` as a plain object with the keys in `keys`. */
static int append_row(napi_env env, napi_value rows, uint32_t index, napi_value *keys, const struct inet_diag_msg *msg) {
  char local[INET6_ADDRSTRLEN];
  char remote[INET6_ADDRSTRLEN];
  /* For AF_INET only the first of the four address words is set; inet_ntop reads just that. */
  if (!inet_ntop(msg->idiag_family, msg->id.idiag_src, local, sizeof local)) return -2;
  if (!inet_ntop(msg->idiag_family, msg->id.idiag_dst, remote, sizeof remote)) return -2;

  napi_value values[KEY_COUNT];
  NAPI_OK(napi_create_uint32(env, msg->idiag_state, &values[KEY_STATE]));
  NAPI_OK(napi_create_string_latin1(env, local, NAPI_AUTO_LENGTH, &values[KEY_LOCAL_ADDRESS]));
  NAPI_OK(napi_create_uint32(env, ntohs(msg->id.idiag_sport), &values[KEY_LOCAL_PORT]));
  NAPI_OK(napi_create_string_latin1(env, remote, NAPI_AUTO_LENGTH, &values[KEY_REMOTE_ADDRESS]));
  NAPI_OK(napi_create_uint32(env, ntohs(msg->id.idiag_dport), &values[KEY_REMOTE_PORT]));
  NAPI_OK(napi_create_uint32(env, msg->idiag_inode, &values[KEY_INODE]));
  NAPI_OK(napi_create_uint32(env, msg->idiag_uid, &values[KEY_UID]));

  napi_property_descriptor props[KEY_COUNT];
  memset(props, 0, sizeof props);
  for (int k = 0; k < KEY_COUNT; k++) {
    props[k].name = keys[k];
    props[k].value = values[k];
    props[k].attributes = napi_default_jsproperty;
  }
  napi_value row;
  NAPI_OK(napi_create_object(env, &row));
  NAPI_OK(napi_define_properties(env, row, KEY_COUNT, props));
  NAPI_OK(napi_set_element(env, rows, index, row));
  return 0;
}

static void put16(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v) {
  put16(p, v & 0xffff);
  put16(p + 2, v >> 16);
}

/* Appends one socket as a packed record; -3 when memory runs out. */
static int append_record(struct sink *sink, const struct inet_diag_msg *msg) {
  if (sink->size + PACKED_RECORD > sink->capacity) {
    size_t capacity = sink->capacity ? sink->capacity * 2 : 256 * PACKED_RECORD;
    uint8_t *grown = realloc(sink->bytes, capacity);
    if (!grown) return -3;
    sink->bytes = grown;
    sink->capacity = capacity;
  }
  uint8_t *r = sink->bytes + sink->size;
  memset(r, 0, PACKED_RECORD);
  r[0] = msg->idiag_family == AF_INET6 ? 6 : 4;
  r[1] = msg->idiag_state;
  put16(r + 2, ntohs(msg->id.idiag_sport));
  put16(r + 4, ntohs(msg->id.idiag_dport));
  put32(r + 8, msg->idiag_inode);
  put32(r + 12, msg->idiag_uid);
  memcpy(r + 16, msg->id.idiag_src, msg->idiag_family == AF_INET6 ? 16 : 4);
  memcpy(r + 32, msg->id.idiag_dst, msg->idiag_family == AF_INET6 ? 16 : 4);
  sink->size += PACKED_RECORD;
  return 0;
}

static int append(struct sink *sink, const struct inet_diag_msg *msg) {
  return sink->keys ? append_row(sink->env, sink->rows, sink->count, sink->keys, msg) : append_record(sink, msg);
}

/*
 * Reads the reply up to NLMSG_DONE into `sink`. Returns 0, an errno (from a syscall or from the
 * kernel's NLMSG_ERROR), -1 when a JavaScript exception is pending, -2 for a reply that
 * makes no sense, or -3 when memory ran out.
 */
static int read_reply(napi_env env, int fd, uint32_t seq, struct sink *sink) {
  /* On the stack (Node may call from several worker threads), aligned for NLMSG_NEXT. */
  union {
    struct nlmsghdr header;
    char bytes[RECV_BUFFER];
  } buffer;
  for (;;) {
    struct iovec iov = {.iov_base = buffer.bytes, .iov_len = sizeof buffer.bytes};
    struct sockaddr_nl from;
    struct msghdr msg = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1};
    ssize_t got = recvmsg(fd, &msg, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (got == 0) return -2;
    if (msg.msg_flags & MSG_TRUNC) return EMSGSIZE;

    /* Each datagram's handles go once its rows are in the array, which keeps them alive. */
    napi_handle_scope scope;
    NAPI_OK(napi_open_handle_scope(env, &scope));
    int result = 1; /* 1: datagram consumed, read on */
    /* Signed, as NLMSG_NEXT expects: a malformed tail then ends the walk instead of wrapping. */
    int left = (int)got;
    for (struct nlmsghdr *h = &buffer.header; result == 1 && NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_seq != seq) continue;
      if (h->nlmsg_type == NLMSG_DONE) {
        /* Kernels since 4.x append the dump's own status: a negative errno if it failed late. */
        int status = 0;
        if (h->nlmsg_len >= NLMSG_LENGTH(sizeof status)) memcpy(&status, NLMSG_DATA(h), sizeof status);
        result = status < 0 ? -status : 0;
      } else if (h->nlmsg_type == NLMSG_ERROR) {
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
          result = -2;
        } else {
          const struct nlmsgerr *err = NLMSG_DATA(h);
          result = err->error < 0 ? -err->error : 0;
        }
      } else if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY) {
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
          result = -2;
        } else {
          int appended = append(sink, NLMSG_DATA(h));
          if (appended != 0) result = appended;
          else sink->count++;
        }
      }
    }
    if (napi_close_handle_scope(env, scope) != napi_ok && result >= 0) return -1;
    if (result != 1) return result;
  }
}

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char message[160];
  snprintf(message, sizeof message, "sockdiag %s: %s", what, strerror(err));
  napi_value text;
  napi_value error;
  napi_value number;
  if (napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &text) != napi_ok) return NULL;
  if (napi_create_error(env, NULL, text, &error) != napi_ok) return NULL;
  if (napi_create_int32(env, err, &number) == napi_ok) napi_set_named_property(env, error, "errno", number);
  napi_throw(env, error);
  return NULL;
}

static int read_uint32_arg(napi_env env, napi_value value, const char *name, uint32_t *out) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok) return -1;
  if (type != napi_number || napi_get_value_uint32(env, value, out) != napi_ok) {
    char message[80];
    snprintf(message, sizeof message, "sockdiag dump: %s must be a number", name);
    napi_throw_type_error(env, NULL, message);
    return -1;
  }
  return 0;
}

/* Reads (protocol, family, stateMask) and runs one dump into `sink`: 0, or -1 with a JavaScript exception pending. */
static int run_dump(napi_env env, napi_callback_info info, struct sink *sink) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return -1;
  if (argc < 3) {
    napi_throw_type_error(env, NULL, "sockdiag dump: expected (protocol, family, stateMask)");
    return -1;
  }
  uint32_t protocol, family, state_mask;
  if (read_uint32_arg(env, argv[0], "protocol", &protocol) != 0) return -1;
  if (read_uint32_arg(env, argv[1], "family", &family) != 0) return -1;
  if (read_uint32_arg(env, argv[2], "stateMask", &state_mask) != 0) return -1;
  if ((protocol != IPPROTO_TCP && protocol != IPPROTO_UDP) || (family != 4 && family != 6)) {
    napi_throw_range_error(env, NULL, "sockdiag dump: protocol must be 6 or 17 and family 4 or 6");
    return -1;
  }

  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) {
    throw_errno(env, "socket", errno);
    return -1;
  }
  /* Only one dump is ever in flight on this socket; the number just tells its replies apart. */
  const uint32_t seq = 1;
  const char *step = "send";
  int result = send_request(fd, (uint8_t)protocol, family == 4 ? AF_INET : AF_INET6, state_mask, seq);
  if (result == 0) {
    step = "dump";
    result = read_reply(env, fd, seq, sink);
  }
  close(fd);

  if (result == 0 || result == -1) return result;
  throw_errno(env, step, result == -2 ? EPROTO : result == -3 ? ENOMEM : result);
  return -1;
}

/* dump(protocol: 6 | 17, family: 4 | 6, stateMask: number): rows, one object per matching socket. */
static napi_value dump(napi_env env, napi_callback_info info) {
  struct sink sink;
  memset(&sink, 0, sizeof sink);
  napi_value keys[KEY_COUNT];
  sink.env = env;
  sink.keys = keys;
  if (napi_create_array(env, &sink.rows) != napi_ok) return NULL;
  for (int k = 0; k < KEY_COUNT; k++) {
    if (napi_create_string_latin1(env, KEY_NAMES[k], NAPI_AUTO_LENGTH, &keys[k]) != napi_ok) return NULL;
  }
  return run_dump(env, info, &sink) == 0 ? sink.rows : NULL;
}

/* dumpPacked(protocol, family, stateMask): a Buffer of PACKED_RECORD-byte records, one per matching socket. */
static napi_value dump_packed(napi_env env, napi_callback_info info) {
  struct sink sink;
  memset(&sink, 0, sizeof sink);
  sink.env = env;
  int result = run_dump(env, info, &sink);
  napi_value buffer = NULL;
  if (result == 0 && napi_create_buffer_copy(env, sink.size, sink.size ? sink.bytes : (const void *)"", NULL, &buffer) != napi_ok) buffer = NULL;
  free(sink.bytes);
  return buffer;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "dump", NAPI_AUTO_LENGTH, dump, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "dump", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "dumpPacked", NAPI_AUTO_LENGTH, dump_packed, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "dumpPacked", fn) != napi_ok) return NULL;
  return exports;
}
