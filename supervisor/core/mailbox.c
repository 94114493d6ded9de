/* mailbox: see mailbox.h. */
#include "core/mailbox.h"

#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

static struct mailbox_msg *take_all(struct mailbox *mb)
{
        struct mailbox_msg *list;

        pthread_mutex_lock(&mb->lock);
        list = mb->head;
        mb->head = mb->tail = NULL;
        pthread_mutex_unlock(&mb->lock);
        return list;
}

static void mailbox_readable(struct loop_source *src, uint32_t events)
{
        struct mailbox *mb = container_of(src, struct mailbox, src);
        uint64_t count;

        (void)events;
        if (read(src->fd, &count, sizeof count) != sizeof count)
                return;
        for (struct mailbox_msg *m = take_all(mb), *next; m; m = next) {
                next = m->next;
                m->next = NULL;
                m->handle(m, mb->ctx);
        }
}

void mailbox_init(struct mailbox *mb)
{
        *mb = (struct mailbox){ .head = NULL };
        loop_source_init(&mb->src, mailbox_readable);
}

int mailbox_open(struct mailbox *mb, struct loop *l, void *ctx)
{
        int r;

        mb->head = mb->tail = NULL;
        mb->ctx = ctx;
        mb->src.handler = mailbox_readable;
        mb->src.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (mb->src.fd < 0)
                return -errno;
        r = pthread_mutex_init(&mb->lock, NULL);
        if (r != 0) {
                close(mb->src.fd);
                mb->src.fd = -1;
                return -r;
        }
        r = loop_add(l, &mb->src, EPOLLIN);
        if (r < 0) {
                pthread_mutex_destroy(&mb->lock);
                close(mb->src.fd);
                mb->src.fd = -1;
        }
        return r;
}

void mailbox_post(struct mailbox *mb, struct mailbox_msg *msg)
{
        uint64_t one = 1;

        msg->next = NULL;
        pthread_mutex_lock(&mb->lock);
        if (mb->tail)
                mb->tail->next = msg;
        else
                mb->head = msg;
        mb->tail = msg;
        pthread_mutex_unlock(&mb->lock);
        /* The counter saturates only after 2^64-2 unread posts, and a
         * wake-up already pending delivers this message too. */
        ssize_t r = write(mb->src.fd, &one, sizeof one);
        (void)r;
}

void mailbox_close(struct mailbox *mb, struct loop *l)
{
        if (mb->src.fd < 0)
                return;
        for (struct mailbox_msg *m = take_all(mb), *next; m; m = next) {
                next = m->next;
                m->destroy(m);
        }
        loop_remove(l, &mb->src);
        pthread_mutex_destroy(&mb->lock);
}
