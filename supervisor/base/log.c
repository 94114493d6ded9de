/* log: formatting and writing of event lines. See log.h. */
#include "base/log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level log_min_level = LOG_LEVEL_INFO;
static enum log_format log_out_format = LOG_FORMAT_TEXT;

static const char *const level_names[] = {
        [LOG_LEVEL_DEBUG] = "debug",
        [LOG_LEVEL_INFO] = "info",
        [LOG_LEVEL_WARN] = "warn",
        [LOG_LEVEL_ERROR] = "error",
};

void log_setup(enum log_level level, enum log_format format)
{
        log_min_level = level;
        log_out_format = format;
}

int log_enabled(enum log_level level)
{
        return level >= log_min_level;
}

/* A bounded appender: writes what fits, always leaves room for "\n\0". */
struct out {
        char *buf;
        size_t size, len;
};

static void put_char(struct out *o, char c)
{
        if (o->len + 2 < o->size)
                o->buf[o->len++] = c;
}

static void put_str(struct out *o, const char *s)
{
        while (*s)
                put_char(o, *s++);
}

static void put_int(struct out *o, long long v)
{
        char tmp[32];
        snprintf(tmp, sizeof tmp, "%lld", v);
        put_str(o, tmp);
}

static void put_json_string(struct out *o, const char *s)
{
        put_char(o, '"');
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c == '"' || c == '\\') {
                        put_char(o, '\\');
                        put_char(o, (char)c);
                } else if (c == '\n') {
                        put_str(o, "\\n");
                } else if (c < 0x20 || c == 0x7f) {
                        char tmp[8];
                        snprintf(tmp, sizeof tmp, "\\u%04x", c);
                        put_str(o, tmp);
                } else {
                        put_char(o, (char)c);
                }
        }
        put_char(o, '"');
}

/* Text values are quoted only when a reader splitting on spaces and '='
 * would otherwise misread them. */
static int needs_quotes(const char *s)
{
        if (!*s)
                return 1;
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f)
                        return 1;
        }
        return 0;
}

static void put_text_value(struct out *o, const char *s)
{
        if (!needs_quotes(s)) {
                put_str(o, s);
                return;
        }
        put_json_string(o, s);
}

static const char *field_value(const struct log_field *f)
{
        if (f->kind == LOG_KIND_SECRET)
                return "******";
        return f->s ? f->s : "";
}

size_t log_format_line(char *buf, size_t size, enum log_format format, const char *time,
                       enum log_level level, const char *event, const struct log_field *fields)
{
        struct out o = { .buf = buf, .size = size, .len = 0 };

        if (size < 2)
                return 0;
        if (format == LOG_FORMAT_JSON) {
                put_str(&o, "{\"time\":");
                put_json_string(&o, time);
                put_str(&o, ",\"level\":");
                put_json_string(&o, level_names[level]);
                put_str(&o, ",\"event\":");
                put_json_string(&o, event);
                for (const struct log_field *f = fields; f->kind != LOG_KIND_END; f++) {
                        put_char(&o, ',');
                        put_json_string(&o, f->key);
                        put_char(&o, ':');
                        if (f->kind == LOG_KIND_INT)
                                put_int(&o, f->i);
                        else
                                put_json_string(&o, field_value(f));
                }
                /* A truncated JSON line is useless to a parser: end it cleanly. */
                if (o.len + 3 >= o.size) {
                        o.len = 0;
                        put_str(&o, "{\"time\":");
                        put_json_string(&o, time);
                        put_str(&o, ",\"level\":\"error\",\"event\":\"log.truncated\"");
                }
                put_char(&o, '}');
        } else {
                put_str(&o, time);
                put_str(&o, " level=");
                put_str(&o, level_names[level]);
                put_str(&o, " event=");
                put_text_value(&o, event);
                for (const struct log_field *f = fields; f->kind != LOG_KIND_END; f++) {
                        put_char(&o, ' ');
                        put_str(&o, f->key);
                        put_char(&o, '=');
                        if (f->kind == LOG_KIND_INT)
                                put_int(&o, f->i);
                        else
                                put_text_value(&o, field_value(f));
                }
        }
        o.buf[o.len++] = '\n';
        o.buf[o.len] = '\0';
        return o.len;
}

void log_write(enum log_level level, const char *event, const struct log_field *fields)
{
        char line[4096], now[40];
        struct timespec ts;
        struct tm tm;

        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        size_t len = strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(now + len, sizeof now - len, ".%03uZ", (unsigned)(ts.tv_nsec / 1000000) % 1000u);
        size_t n = log_format_line(line, sizeof line, log_out_format, now, level, event, fields);
        /* One write per line keeps lines whole when the child shares stderr. */
        ssize_t r = write(STDERR_FILENO, line, n);
        (void)r;
}
