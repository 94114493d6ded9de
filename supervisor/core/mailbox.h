/* mailbox: how library threads (libzookeeper_mt's completion thread) hand
 * events to the loop. The poster allocates a message and gives up
 * ownership; the loop thread delivers it and the receiver frees it. The
 * mutex guards only the list: no supervisor state is touched off the loop. */
#pragma once

#include <pthread.h>

#include "core/loop.h"

/* The poster says what the loop thread does with its message: handle()
 * runs on the loop thread with the mailbox's context and takes ownership;
 * destroy() frees a message that was never handled. */
struct mailbox_msg {
        struct mailbox_msg *next;
        void (*handle)(struct mailbox_msg *msg, void *ctx);
        void (*destroy)(struct mailbox_msg *msg);
};

struct mailbox {
        struct loop_source src; /* eventfd */
        pthread_mutex_t lock;
        struct mailbox_msg *head, *tail;
        void *ctx;
};

/* A mailbox that is not open yet: safe to close. */
void mailbox_init(struct mailbox *mb);
int mailbox_open(struct mailbox *mb, struct loop *l, void *ctx);
/* Any thread. Ownership of msg passes to the mailbox. */
void mailbox_post(struct mailbox *mb, struct mailbox_msg *msg);
/* Loop thread, after every poster has stopped: destroys undelivered messages. */
void mailbox_close(struct mailbox *mb, struct loop *l);
