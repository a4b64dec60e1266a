/* qvnc public C ABI: errors, memory, version.
 *
 * Convention (the same as QEMU's Error **errp and GLib's GError):
 * fallible calls take a trailing `qvnc_error **err`, which may be NULL.
 * When it is not NULL, *err must be NULL on entry; on failure the call
 * returns NULL/false and stores an error the caller frees with
 * qvnc_error_free().
 */
#ifndef QVNC_ERROR_H
#define QVNC_ERROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define QVNC_API __attribute__((visibility("default")))
#else
#define QVNC_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define QVNC_VERSION_MAJOR 0
#define QVNC_VERSION_MINOR 1
#define QVNC_VERSION_MICRO 0

typedef enum qvnc_error_code {
    QVNC_ERR_INVALID_ARG = 1,
    QVNC_ERR_OPTS = 2,
    QVNC_ERR_IO = 3,
    QVNC_ERR_TLS = 4,
    QVNC_ERR_SASL = 5,
    QVNC_ERR_NOT_FOUND = 6,
    QVNC_ERR_STATE = 7,
    QVNC_ERR_NOMEM = 8,
    QVNC_ERR_INTERNAL = 9,
    QVNC_ERR_UNSUPPORTED = 10
} qvnc_error_code;

typedef struct qvnc_error qvnc_error;

/* The code of an error (never 0). */
QVNC_API qvnc_error_code qvnc_error_get_code(const qvnc_error *err);
/* The user-facing message; owned by err, valid until qvnc_error_free(). */
QVNC_API const char *qvnc_error_get_message(const qvnc_error *err);
/* Frees an error; NULL is accepted. */
QVNC_API void qvnc_error_free(qvnc_error *err);

typedef enum qvnc_log_level {
    QVNC_LOG_ERROR = 0,
    QVNC_LOG_WARNING = 1,
    QVNC_LOG_INFO = 2,
    QVNC_LOG_DEBUG = 3
} qvnc_log_level;

typedef void (*qvnc_log_fn)(void *opaque, qvnc_log_level level,
                            const char *domain, const char *message);

/* Frees memory the library returned to the caller (strings); NULL is accepted. */
QVNC_API void qvnc_free(void *ptr);

/* "MAJOR.MINOR.MICRO", static storage. */
QVNC_API const char *qvnc_version(void);

#ifdef __cplusplus
}
#endif

#endif /* QVNC_ERROR_H */
