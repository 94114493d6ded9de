/* http: see http.h. */
#include "integrations/http.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/dl.h"
#include "base/log.h"

#ifndef VERSION
#define VERSION "unknown"
#endif

struct curl_api {
        void *lib;
        __typeof__(curl_global_init) *global_init;
        __typeof__(curl_global_cleanup) *global_cleanup;
        __typeof__(curl_multi_init) *multi_init;
        __typeof__(curl_multi_setopt) *multi_setopt;
        __typeof__(curl_multi_socket_action) *multi_socket_action;
        __typeof__(curl_multi_info_read) *multi_info_read;
        __typeof__(curl_multi_add_handle) *multi_add_handle;
        __typeof__(curl_multi_remove_handle) *multi_remove_handle;
        __typeof__(curl_multi_cleanup) *multi_cleanup;
        __typeof__(curl_easy_init) *easy_init;
        __typeof__(curl_easy_setopt) *easy_setopt;
        __typeof__(curl_easy_getinfo) *easy_getinfo;
        __typeof__(curl_easy_cleanup) *easy_cleanup;
        __typeof__(curl_easy_strerror) *easy_strerror;
        __typeof__(curl_slist_append) *slist_append;
        __typeof__(curl_slist_free_all) *slist_free_all;
};

struct http_call {
        struct http_call *next;
        CURL *easy;
        struct curl_slist *headers;
        struct buf body;
        size_t max;
        bool too_big;
        char error[CURL_ERROR_SIZE];
        http_done_fn done;
        void *data;
};

#define SYM(field, name) { name, (void **)&api->field }
static int curl_load(struct curl_api *api)
{
        const struct dl_sym syms[] = {
                SYM(global_init, "curl_global_init"), SYM(global_cleanup, "curl_global_cleanup"),
                SYM(multi_init, "curl_multi_init"), SYM(multi_setopt, "curl_multi_setopt"),
                SYM(multi_socket_action, "curl_multi_socket_action"), SYM(multi_info_read, "curl_multi_info_read"),
                SYM(multi_add_handle, "curl_multi_add_handle"), SYM(multi_remove_handle, "curl_multi_remove_handle"),
                SYM(multi_cleanup, "curl_multi_cleanup"), SYM(easy_init, "curl_easy_init"),
                SYM(easy_setopt, "curl_easy_setopt"), SYM(easy_getinfo, "curl_easy_getinfo"),
                SYM(easy_cleanup, "curl_easy_cleanup"), SYM(easy_strerror, "curl_easy_strerror"),
                SYM(slist_append, "curl_slist_append"), SYM(slist_free_all, "curl_slist_free_all"),
        };

        /* Never unmapped: OpenSSL behind it leaves exit handlers and
         * thread-locals that must outlive dlclose. */
        return dl_load("libcurl.so.4", RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE, syms, sizeof syms / sizeof syms[0],
                       &api->lib);
}
#undef SYM

/* curl tells us which sockets to watch; they go into our own epoll set. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
        struct http *h = userp;
        struct epoll_event ev = { .data.fd = fd };

        (void)easy;
        (void)socketp;
        if (what == CURL_POLL_REMOVE) {
                epoll_ctl(h->src.fd, EPOLL_CTL_DEL, fd, NULL);
                return 0;
        }
        ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
        if (epoll_ctl(h->src.fd, EPOLL_CTL_MOD, fd, &ev) < 0 && errno == ENOENT)
                epoll_ctl(h->src.fd, EPOLL_CTL_ADD, fd, &ev);
        return 0;
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
        struct http *h = userp;

        (void)multi;
        if (timeout_ms < 0)
                timer_disarm(&h->timer);
        else
                timer_arm_ms(&h->timer, (uint64_t)timeout_ms);
        return 0;
}

static size_t on_body(char *ptr, size_t size, size_t n, void *userdata)
{
        struct http_call *c = userdata;
        size_t len = size * n;

        if (len > c->max - c->body.len) {
                c->too_big = true;
                return 0;
        }
        return buf_append(&c->body, ptr, len) == 0 ? len : 0;
}

static void unlink_call(struct http *h, struct http_call *c)
{
        for (struct http_call **p = &h->calls; *p; p = &(*p)->next) {
                if (*p == c) {
                        *p = c->next;
                        return;
                }
        }
}

static void free_call(struct http *h, struct http_call *c)
{
        h->curl->multi_remove_handle(h->multi, c->easy);
        h->curl->easy_cleanup(c->easy);
        h->curl->slist_free_all(c->headers);
        buf_free(&c->body);
        free(c);
}

static void finish(struct http *h, struct http_call *c, CURLcode code)
{
        struct http_response resp = { .body = c->body.data ? c->body.data : "", .len = c->body.len };

        unlink_call(h, c);
        h->curl->easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &resp.status);
        if (c->too_big)
                resp.error = "response body too large";
        else if (code != CURLE_OK)
                resp.error = c->error[0] ? c->error : h->curl->easy_strerror(code);
        c->done(&resp, c->data);
        free_call(h, c);
}

static void collect(struct http *h)
{
        CURLMsg *msg;
        int left;

        while ((msg = h->curl->multi_info_read(h->multi, &left))) {
                struct http_call *c = NULL;
                if (msg->msg != CURLMSG_DONE)
                        continue;
                h->curl->easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
                finish(h, c, msg->data.result);
        }
}

static void on_ready(struct loop_source *src, uint32_t events)
{
        struct http *h = container_of(src, struct http, src);
        struct epoll_event evs[16];
        int running, n;

        (void)events;
        n = epoll_wait(h->src.fd, evs, 16, 0);
        for (int i = 0; i < n; i++) {
                int flags = (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) | (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                            (evs[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
                h->curl->multi_socket_action(h->multi, evs[i].data.fd, flags, &running);
        }
        collect(h);
}

static void on_timer(struct timer *t)
{
        struct http *h = container_of(t, struct http, timer);
        int running;

        h->curl->multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        collect(h);
}

int http_open(struct http *h, struct loop *l)
{
        int r;

        *h = (struct http){ .loop = l };
        loop_source_init(&h->src, on_ready);
        timer_init(&h->timer, on_timer);
        h->curl = calloc(1, sizeof *h->curl);
        if (!h->curl)
                return -ENOMEM;
        if ((r = curl_load(h->curl)) < 0)
                goto fail;
        r = -ENOMEM;
        if (h->curl->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(h->multi = h->curl->multi_init()))
                goto fail;
        h->curl->multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
        h->curl->multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
        h->curl->multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
        h->curl->multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
        h->src.fd = epoll_create1(EPOLL_CLOEXEC);
        if (h->src.fd < 0) {
                r = -errno;
                goto fail;
        }
        if ((r = loop_add(l, &h->src, EPOLLIN)) < 0 || (r = timer_open(&h->timer, l, on_timer)) < 0)
                goto fail;
        return 0;
fail:
        http_close(h);
        return r;
}

static int setup(struct http *h, struct http_call *c, const struct http_request *req)
{
        struct curl_api *api = h->curl;
        CURL *e = c->easy;

        for (const char *const *p = req->headers; p && *p; p++) {
                struct curl_slist *l = api->slist_append(c->headers, *p);
                if (!l)
                        return -ENOMEM;
                c->headers = l;
        }
        if (api->easy_setopt(e, CURLOPT_URL, req->url) != CURLE_OK)
                return -EINVAL;
        api->easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        api->easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        api->easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        api->easy_setopt(e, CURLOPT_PRIVATE, c);
        api->easy_setopt(e, CURLOPT_ERRORBUFFER, c->error);
        api->easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
        api->easy_setopt(e, CURLOPT_WRITEDATA, c);
        api->easy_setopt(e, CURLOPT_USERAGENT, "flink-supervisor/" VERSION);
        api->easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms);
        api->easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, req->timeout_ms);
        if (c->headers)
                api->easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
        if (req->follow) {
                /* curl keeps credentials to the host they were meant for. */
                api->easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
                api->easy_setopt(e, CURLOPT_MAXREDIRS, (long)HTTP_MAX_REDIRECTS);
                api->easy_setopt(e, CURLOPT_POSTREDIR, (long)CURL_REDIR_POST_ALL);
        }
        if (req->userpwd) {
                api->easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
                api->easy_setopt(e, CURLOPT_USERPWD, req->userpwd);
        }
        if (req->ca_file && api->easy_setopt(e, CURLOPT_CAINFO, req->ca_file) != CURLE_OK)
                return -EINVAL;
        if (req->body) {
                api->easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
                if (api->easy_setopt(e, CURLOPT_COPYPOSTFIELDS, req->body) != CURLE_OK)
                        return -ENOMEM;
        }
        if (strcmp(req->method, "GET") != 0 && api->easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method) != CURLE_OK)
                return -ENOMEM;
        return 0;
}

int http_start(struct http *h, const struct http_request *req, http_done_fn done, void *data, struct http_call **ret)
{
        struct http_call *c = calloc(1, sizeof *c);
        int r;

        if (!c)
                return -ENOMEM;
        c->done = done;
        c->data = data;
        c->max = req->max_body ? req->max_body : HTTP_MAX_BODY;
        c->easy = h->curl->easy_init();
        if (!c->easy) {
                free(c);
                return -ENOMEM;
        }
        if ((r = setup(h, c, req)) < 0 || (h->curl->multi_add_handle(h->multi, c->easy) != CURLM_OK && (r = -ENOMEM))) {
                free_call(h, c);
                return r;
        }
        c->next = h->calls;
        h->calls = c;
        if (ret)
                *ret = c;
        return 0;
}

void http_cancel(struct http *h, struct http_call *call)
{
        unlink_call(h, call);
        free_call(h, call);
}

void http_close(struct http *h)
{
        if (!h->curl)
                return;
        while (h->calls)
                http_cancel(h, h->calls);
        if (h->multi)
                h->curl->multi_cleanup(h->multi);
        if (h->timer.src.fd >= 0)
                timer_close(&h->timer, h->loop);
        if (h->src.fd >= 0)
                loop_remove(h->loop, &h->src);
        if (h->curl->lib) {
                if (h->multi)
                        h->curl->global_cleanup();
                dlclose(h->curl->lib);
        }
        free(h->curl);
        h->curl = NULL;
        h->multi = NULL;
}
