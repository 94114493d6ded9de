/* dl: loads an optional shared library and the symbols we use of it, all
 * or none: a feature whose library is missing is off, not half on. */
#pragma once

#include <stddef.h>

struct dl_sym {
        const char *name;
        void **slot;            /* where the symbol's address goes */
};

/* dlopen(lib, flags) and every sym; returns the handle in *ret and 0, or
 * -ENOENT (library or a symbol missing: nothing stays loaded). */
int dl_load(const char *lib, int flags, const struct dl_sym *syms, size_t n, void **ret);
