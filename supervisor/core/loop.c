/* loop: see loop.h. */
#include "core/loop.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

int loop_open(struct loop *l)
{
        l->quit = false;
        l->epfd = epoll_create1(EPOLL_CLOEXEC);
        return l->epfd < 0 ? -errno : 0;
}

int loop_add(struct loop *l, struct loop_source *src, uint32_t events)
{
        struct epoll_event ev = { .events = events, .data.ptr = src };
        return epoll_ctl(l->epfd, EPOLL_CTL_ADD, src->fd, &ev) < 0 ? -errno : 0;
}

void loop_detach(struct loop *l, struct loop_source *src)
{
        if (src->fd < 0)
                return;
        epoll_ctl(l->epfd, EPOLL_CTL_DEL, src->fd, NULL);
        src->fd = -1;
}

void loop_remove(struct loop *l, struct loop_source *src)
{
        int fd = src->fd;

        loop_detach(l, src);
        if (fd >= 0)
                close(fd);
}

int loop_run(struct loop *l)
{
        struct epoll_event evs[16];

        while (!l->quit) {
                int n = epoll_wait(l->epfd, evs, 16, -1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                for (int i = 0; i < n && !l->quit; i++) {
                        struct loop_source *src = evs[i].data.ptr;
                        if (src->fd >= 0)
                                src->handler(src, evs[i].events);
                }
        }
        return 0;
}

void loop_quit(struct loop *l)
{
        l->quit = true;
}

void loop_close(struct loop *l)
{
        if (l->epfd >= 0)
                close(l->epfd);
        l->epfd = -1;
}
