/* The compiled record reader, _records: what its two files share. _records_new.c builds a
 * Reader from a feature schema's columns, checked; _records.c reads records with it and
 * defines the module.
 */
#ifndef TDR_RECORDS_H
#define TDR_RECORDS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "_rawvalues.h"
#include "_rawdates.h"

#define TZ_NAIVE 0
#define TZ_AWARE 1
#define TZ_ANY 2
#define MAX_PATTERN 32

/* A level of a category by its text: the str keys of the level table, kept alive by it. */
typedef struct {
    uint64_t hash; /* text_hash of its characters */
    const void *data; /* the key's characters (NULL: an empty slot) */
    Py_ssize_t length;
    int kind;
    double code;
} Slot;

typedef struct {
    PyObject *name;   /* the input column (str) */
    Slot *slots;      /* the text levels, open addressing (mask + 1 slots) */
    size_t mask;
    PyObject *levels; /* level table (dict) of a category, NULL for a number */
    PyObject *unseen; /* what an unseen level encodes to (float) */
    Py_ssize_t j;     /* encoded position */
    Py_ssize_t col;   /* the column's place among the columns of fit */
    int first;        /* the column's first feature: counted once */
    double lower, upper;
    tdr_number_format format;
} Simple;

typedef struct {
    PyObject *name;
    Py_ssize_t col;
    int layout, tz, n_parts;
    char pattern[MAX_PATTERN];
    Py_ssize_t pos[TDR_N_PARTS];
    int part[TDR_N_PARTS];
} DateColumn;

/* A column's name as the walk compares it: its characters (kept alive by the columns). */
typedef struct {
    const char *data;
    Py_ssize_t size; /* bytes */
    int kind;
} Name;

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    Py_ssize_t width, n_simple, n_dates, n_dropped, n_columns;
    Simple *simple;
    DateColumn *dates;
    PyObject *dropped;  /* tuple of columns dropped at fit: keys that need no warning */
    PyObject *columns;  /* tuple of the columns of fit (str), in order */
    Name *names;        /* their characters */
    PyObject *category; /* category(name, value, levels, unseen) -> float, in Python */
    PyObject *empty;    /* numpy.empty */
    PyObject *shape;    /* width, a Python int */
    PyObject *spare;    /* the last row made, reused once nobody else holds it */
    PyObject *spec;     /* the arguments, kept alive: the strings above point into them */
} Reader;

/* A hash of n bytes, cheaper than str's: a record's text is new, its str hash not yet made. */
static inline uint64_t text_hash(const char *s, Py_ssize_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)n, w;
    for (; n >= 8; s += 8, n -= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 29;
    }
    for (; n > 0; s++, n--)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h ^ (h >> 32);
}

/* _records.c: a Reader's call */
PyObject *tdr_reader_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf,
                                PyObject *kwnames);
/* _records_new.c: the type's tp_init and tp_dealloc */
int tdr_reader_init(Reader *self, PyObject *args, PyObject *kwds);
void tdr_reader_dealloc(Reader *self);

#endif /* TDR_RECORDS_H */
