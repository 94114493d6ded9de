/* loop: the epoll loop that owns every file descriptor of the supervisor.
 *
 * A source is embedded in the struct that owns it (container_of to get
 * back); the loop only borrows it. A handler may remove any source, also
 * one with an event still pending in the current batch: removed sources are
 * marked with fd -1 and skipped. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop_source;
typedef void (*loop_handler)(struct loop_source *src, uint32_t events);

struct loop_source {
        int fd;
        loop_handler handler;
};

struct loop {
        int epfd;
        bool quit;
};

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

/* A source or loop that owns no descriptor yet: safe to remove or close. */
static inline void loop_source_init(struct loop_source *src, loop_handler handler)
{
        *src = (struct loop_source){ .fd = -1, .handler = handler };
}

static inline void loop_init(struct loop *l)
{
        *l = (struct loop){ .epfd = -1 };
}

int loop_open(struct loop *l);
/* Registers src (fd and handler set) for events; returns 0 or -errno. */
int loop_add(struct loop *l, struct loop_source *src, uint32_t events);
/* Unregisters src and closes its fd; src->fd becomes -1. */
void loop_remove(struct loop *l, struct loop_source *src);
/* Unregisters src whose fd belongs to someone else; src->fd becomes -1. */
void loop_detach(struct loop *l, struct loop_source *src);
/* Dispatches events until loop_quit; returns 0 or -errno. */
int loop_run(struct loop *l);
void loop_quit(struct loop *l);
void loop_close(struct loop *l);
