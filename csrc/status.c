/* Error reporting and dtype facts. */
#include "ft_internal.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char ft_error_buffer[512];

int ft_set_error(int status, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    vsnprintf(ft_error_buffer, sizeof ft_error_buffer, fmt, args);
    va_end(args);
    return status;
}

const char *ft_last_error(void) { return ft_error_buffer; }

static const char *const ft_dtype_names[] = {
    "bool", "uint8", "int8", "int16", "int32", "int64", "float32", "float64",
};
_Static_assert(sizeof ft_dtype_names / sizeof ft_dtype_names[0] == FT_DTYPE_COUNT, "dtype name table out of date");

static const size_t ft_dtype_sizes[] = {1, 1, 1, 2, 4, 8, 4, 8};
_Static_assert(sizeof ft_dtype_sizes / sizeof ft_dtype_sizes[0] == FT_DTYPE_COUNT, "dtype size table out of date");

const char *ft_dtype_name(int dtype) { return ft_is_valid_dtype(dtype) ? ft_dtype_names[dtype] : "invalid"; }

size_t ft_dtype_size(int dtype) { return ft_is_valid_dtype(dtype) ? ft_dtype_sizes[dtype] : 0; }
