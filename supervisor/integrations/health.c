/* health: see health.h. */
#include "integrations/health.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/dl.h"
#include "base/log.h"
#include "config/mesos.h"
#include "config/settings.h"

/* libmicrohttpd, loaded when the endpoint starts: linking it would load
 * GnuTLS and its dependencies into every start (about 1 ms and 3 MiB),
 * also with the endpoint off. */
struct mhd_api {
        void *lib;
        __typeof__(MHD_start_daemon) *start_daemon;
        __typeof__(MHD_get_daemon_info) *get_daemon_info;
        __typeof__(MHD_run) *run;
        __typeof__(MHD_get_timeout) *get_timeout;
        __typeof__(MHD_stop_daemon) *stop_daemon;
        __typeof__(MHD_create_response_from_buffer) *create_response_from_buffer;
        __typeof__(MHD_add_response_header) *add_response_header;
        __typeof__(MHD_queue_response) *queue_response;
        __typeof__(MHD_destroy_response) *destroy_response;
};

#define SYM(field, name) { name, (void **)&api->field }
static int mhd_load(struct mhd_api *api)
{
        const struct dl_sym syms[] = {
                SYM(start_daemon, "MHD_start_daemon"), SYM(get_daemon_info, "MHD_get_daemon_info"),
                SYM(run, "MHD_run"), SYM(get_timeout, "MHD_get_timeout"), SYM(stop_daemon, "MHD_stop_daemon"),
                SYM(create_response_from_buffer, "MHD_create_response_from_buffer"),
                SYM(add_response_header, "MHD_add_response_header"), SYM(queue_response, "MHD_queue_response"),
                SYM(destroy_response, "MHD_destroy_response"),
        };

        return dl_load("libmicrohttpd.so.12", RTLD_NOW | RTLD_LOCAL, syms, sizeof syms / sizeof syms[0], &api->lib);
}
#undef SYM

int health_port(const char *setting, char *const *envp, const char *hostname, uint16_t *ret, char *err, size_t errlen)
{
        struct mesos_env env = { .envp = envp, .hostname = hostname };
        long port;

        if (setting) {
                if (settings_parse_long(setting, 0, 65535, &port) < 0) {
                        snprintf(err, errlen, "invalid SUPERVISOR_HEALTH_PORT=\"%.32s\": expected a port number from 0 (off) to 65535",
                                 setting);
                        return -EINVAL;
                }
                *ret = (uint16_t)port;
                return 0;
        }
        switch (mesos_bind_port(&env, "HEALTH", &port, err, errlen)) {
        case 0:
                *ret = (uint16_t)port;
                return 0;
        case -ENOENT:
                *ret = HEALTH_DEFAULT_PORT;
                return 0;
        default:
                return -EINVAL;
        }
}

static enum MHD_Result respond(const struct mhd_api *mhd, struct MHD_Connection *conn, unsigned status,
                               const char *type, const char *body, size_t len)
{
        struct MHD_Response *r = mhd->create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
        enum MHD_Result ret;

        if (!r)
                return MHD_NO;
        mhd->add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
        mhd->add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
                mhd->add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        ret = mhd->queue_response(conn, status, r);
        mhd->destroy_response(r);
        return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
        struct health *h = cls;
        struct report_snapshot snap;
        char body[4096];
        size_t len;

        (void)version;
        (void)upload_data;
        if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
                /* No body is read: the answer comes first and the connection closes. */
                *upload_data_size = 0;
                return respond(h->mhd, conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "method not allowed\n", 19);
        }
        /* Answered only once the whole request is in (the first call comes
         * after the headers): an answer queued earlier makes libmicrohttpd
         * close the connection, and keep-alive clients reconnect each time. */
        if (!*con_cls) {
                *con_cls = h;
                return MHD_YES;
        }
        if (*upload_data_size) {
                *upload_data_size = 0;
                return MHD_YES;
        }
        if (strcmp(url, "/health") != 0 && strcmp(url, "/ready") != 0 && strcmp(url, "/metrics") != 0)
                return respond(h->mhd, conn, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n", 10);
        memset(&snap, 0, sizeof snap);
        h->snapshot(&snap, h->data);
        if (strcmp(url, "/metrics") == 0) {
                len = report_metrics(&snap, body, sizeof body);
                return respond(h->mhd, conn, MHD_HTTP_OK, "text/plain; version=0.0.4", body, len);
        }
        bool ready = strcmp(url, "/ready") == 0;
        len = report_health_json(&snap, ready, body, sizeof body);
        return respond(h->mhd, conn, (ready ? snap.ready : snap.healthy) ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
                       "application/json", body, len);
}

static void rearm(struct health *h)
{
        MHD_UNSIGNED_LONG_LONG ms;

        /* Only open connections have a timeout: none, no timer. */
        if (h->mhd->get_timeout(h->daemon, &ms) == MHD_YES)
                timer_arm_ms(&h->timer, ms);
        else
                timer_disarm(&h->timer);
}

/* libmicrohttpd takes its listening socket out of its epoll set while the
 * connection limit is reached and puts it back only at the start of a
 * later run: once the last of those connections is gone, nothing would
 * wake us for that run, and the endpoint would stay deaf. One more run
 * then puts the socket back. */
static void serve(struct health *h)
{
        const union MHD_DaemonInfo *info;

        h->mhd->run(h->daemon);
        info = h->mhd->get_daemon_info(h->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
        if (info && info->num_connections >= HEALTH_MAX_CONNECTIONS) {
                h->full = true;
        } else if (h->full) {
                h->full = false;
                h->mhd->run(h->daemon);
        }
        rearm(h);
}

static void on_ready(struct loop_source *src, uint32_t events)
{
        (void)events;
        serve(container_of(src, struct health, src));
}

static void on_timer(struct timer *t)
{
        serve(container_of(t, struct health, timer));
}

int health_open(struct health *h, struct loop *l, uint16_t port, health_snapshot_fn snapshot, void *data)
{
        const union MHD_DaemonInfo *info;
        int r;

        memset(h, 0, sizeof *h);
        h->loop = l;
        h->snapshot = snapshot;
        h->data = data;
        h->port = port;
        loop_source_init(&h->src, on_ready);
        timer_init(&h->timer, on_timer);
        h->mhd = calloc(1, sizeof *h->mhd);
        if (!h->mhd)
                return -ENOMEM;
        if ((r = mhd_load(h->mhd)) < 0) {
                health_close(h);
                return r;
        }
        h->daemon = h->mhd->start_daemon(MHD_USE_EPOLL, port, NULL, NULL, on_request, h,
                                     MHD_OPTION_CONNECTION_LIMIT, (unsigned)HEALTH_MAX_CONNECTIONS,
                                     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HEALTH_IDLE_TIMEOUT_S,
                                     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
                                     MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)64,
                                     MHD_OPTION_END);
        if (!h->daemon) {
                r = errno ? -errno : -EADDRINUSE;
                health_close(h);
                return r;
        }
        info = h->mhd->get_daemon_info(h->daemon, MHD_DAEMON_INFO_EPOLL_FD);
        if (!info) {
                health_close(h);
                return -EINVAL;
        }
        h->src.fd = info->epoll_fd;
        if ((r = loop_add(l, &h->src, EPOLLIN)) < 0 || (r = timer_open(&h->timer, l, on_timer)) < 0) {
                health_close(h);
                return r;
        }
        return 0;
}

void health_close(struct health *h)
{
        if (h->src.fd >= 0)
                loop_detach(h->loop, &h->src);
        if (h->timer.src.fd >= 0)
                timer_close(&h->timer, h->loop);
        if (h->daemon)
                h->mhd->stop_daemon(h->daemon);
        h->daemon = NULL;
        if (h->mhd && h->mhd->lib)
                dlclose(h->mhd->lib);
        free(h->mhd);
        h->mhd = NULL;
}

int health_probe(uint16_t port)
{
        struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
        struct timeval tv = { .tv_sec = 3 };
        static const char req[] = "GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n";
        char reply[64] = "";
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok = 0;
        ssize_t n;

        if (fd < 0)
                return 1;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0 && write(fd, req, sizeof req - 1) == (ssize_t)(sizeof req - 1) &&
            (n = read(fd, reply, sizeof reply - 1)) > 0) {
                reply[n] = '\0';
                ok = strncmp(reply, "HTTP/1.", 7) == 0 && strncmp(reply + 8, " 200", 4) == 0;
        }
        close(fd);
        return ok ? 0 : 1;
}
