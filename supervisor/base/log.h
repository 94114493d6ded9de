/* log: one line per event on stderr, as key=value text or as JSON.
 *
 * The level and format are the only process-wide state outside the
 * supervisor context: every module logs, and threading them through each
 * call would buy nothing. Fields are borrowed for the duration of the call. */
#pragma once

#include <stddef.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

enum log_kind { LOG_KIND_END, LOG_KIND_STR, LOG_KIND_INT, LOG_KIND_SECRET };

struct log_field {
        const char *key;
        enum log_kind kind;
        const char *s;
        long long i;
};

#define LOG_STR(k, v) ((struct log_field){ .key = (k), .kind = LOG_KIND_STR, .s = (v) })
#define LOG_INT(k, v) ((struct log_field){ .key = (k), .kind = LOG_KIND_INT, .i = (long long)(v) })
/* A field whose value must never be printed: it shows as ******. */
#define LOG_SECRET(k) ((struct log_field){ .key = (k), .kind = LOG_KIND_SECRET })
#define LOG_END ((struct log_field){ .key = NULL, .kind = LOG_KIND_END })

void log_setup(enum log_level level, enum log_format format);
int log_enabled(enum log_level level);
void log_write(enum log_level level, const char *event, const struct log_field *fields);

/* Formats one event into buf (NUL-terminated, newline-ended, truncated to
 * fit); returns the length. Pure apart from the clock: exposed for tests. */
size_t log_format_line(char *buf, size_t size, enum log_format format, const char *time,
                       enum log_level level, const char *event, const struct log_field *fields);

#define log_at(lvl, ev, ...)                                                              \
        do {                                                                              \
                if (log_enabled(lvl))                                                     \
                        log_write(lvl, ev, (const struct log_field[]){ __VA_ARGS__ __VA_OPT__(,) LOG_END }); \
        } while (0)
#define log_debug(ev, ...) log_at(LOG_LEVEL_DEBUG, ev __VA_OPT__(,) __VA_ARGS__)
#define log_info(ev, ...) log_at(LOG_LEVEL_INFO, ev __VA_OPT__(,) __VA_ARGS__)
#define log_warn(ev, ...) log_at(LOG_LEVEL_WARN, ev __VA_OPT__(,) __VA_ARGS__)
#define log_error(ev, ...) log_at(LOG_LEVEL_ERROR, ev __VA_OPT__(,) __VA_ARGS__)
