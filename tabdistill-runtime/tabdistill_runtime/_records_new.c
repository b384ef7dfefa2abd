/* A Reader (_records.h) built from a feature schema's columns (records.compiled_reader): its
 * arguments parsed and checked, the text levels of its categories hashed.
 */
#include "_records.h"

static int text_of(PyObject *obj, const char **s, size_t *n)
{
    Py_ssize_t len;
    *s = PyUnicode_AsUTF8AndSize(obj, &len);
    *n = (size_t)len;
    return *s == NULL ? -1 : 0;
}

/* The str keys of c->levels (float values) in c->slots. */
static int text_levels(Simple *c)
{
    Py_ssize_t pos = 0, size = 8;
    PyObject *key, *value;
    while (size < 2 * PyDict_GET_SIZE(c->levels))
        size *= 2;
    c->slots = PyMem_Calloc((size_t)size, sizeof(Slot));
    if (c->slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    c->mask = (size_t)size - 1;
    while (PyDict_Next(c->levels, &pos, &key, &value)) {
        if (!PyUnicode_CheckExact(key))
            continue;
        uint64_t h = text_hash(PyUnicode_DATA(key),
                               PyUnicode_GET_LENGTH(key) * PyUnicode_KIND(key));
        double code = PyFloat_AsDouble(value);
        if (code == -1.0 && PyErr_Occurred())
            return -1;
        size_t i = (size_t)h & c->mask;
        while (c->slots[i].data != NULL)
            i = (i + 1) & c->mask;
        c->slots[i] = (Slot){h, PyUnicode_DATA(key), PyUnicode_GET_LENGTH(key),
                             PyUnicode_KIND(key), code};
    }
    return 0;
}

/* (j, col, name, levels or None, unseen, first, lower, upper,
 *  currency, thousands, decimal, percent, parens) */
static int parse_simple(PyObject *item, Simple *c)
{
    PyObject *currency, *thousands, *decimal;
    int percent, parens;
    const char *dec;
    size_t dec_len;
    if (!PyArg_ParseTuple(item, "nnUOO!pddUUUpp", &c->j, &c->col, &c->name, &c->levels,
                          &PyFloat_Type,
                          &c->unseen, &c->first, &c->lower, &c->upper, &currency, &thousands,
                          &decimal, &percent, &parens))
        return -1;
    if (c->levels == Py_None)
        c->levels = NULL;
    else if (!PyDict_Check(c->levels)) {
        PyErr_SetString(PyExc_TypeError, "levels must be a dict or None");
        return -1;
    } else if (text_levels(c) < 0)
        return -1;
    if (text_of(currency, &c->format.currency, &c->format.currency_len) < 0 ||
        text_of(thousands, &c->format.thousands, &c->format.thousands_len) < 0 ||
        text_of(decimal, &dec, &dec_len) < 0)
        return -1;
    if (dec_len != 1 || (dec[0] != '.' && dec[0] != ',') || c->format.currency_len > 64 ||
        c->format.thousands_len > 4) {
        PyErr_SetString(PyExc_ValueError, "not a number format");
        return -1;
    }
    c->format.decimal = dec[0];
    c->format.percent = percent;
    c->format.parens = parens;
    return 0;
}

/* (col, name, layout code, pattern, tz code, positions, part indices) */
static int parse_date(PyObject *item, DateColumn *c, Py_ssize_t width)
{
    PyObject *positions, *parts;
    const char *pattern;
    Py_ssize_t n_pattern;
    if (!PyArg_ParseTuple(item, "nUis#iO!O!", &c->col, &c->name, &c->layout, &pattern,
                          &n_pattern, &c->tz, &PyTuple_Type, &positions, &PyTuple_Type, &parts))
        return -1;
    Py_ssize_t n = PyTuple_GET_SIZE(positions);
    if (n < 1 || n > TDR_N_PARTS || PyTuple_GET_SIZE(parts) != n || n_pattern >= MAX_PATTERN ||
        c->layout < TDR_ISO || c->layout > TDR_PATTERN || c->tz < TZ_NAIVE || c->tz > TZ_ANY) {
        PyErr_SetString(PyExc_ValueError, "not a date column");
        return -1;
    }
    memcpy(c->pattern, pattern, (size_t)n_pattern + 1);
    c->n_parts = (int)n;
    for (Py_ssize_t k = 0; k < n; k++) {
        c->pos[k] = PyLong_AsSsize_t(PyTuple_GET_ITEM(positions, k));
        c->part[k] = (int)PyLong_AsLong(PyTuple_GET_ITEM(parts, k));
        if (PyErr_Occurred())
            return -1;
        if (c->pos[k] < 0 || c->pos[k] >= width || c->part[k] < 0 || c->part[k] >= TDR_N_PARTS) {
            PyErr_SetString(PyExc_ValueError, "date part out of range");
            return -1;
        }
    }
    return 0;
}

/* Whether `name` is column `col` of fit. */
static int check_place(const Reader *self, PyObject *name, Py_ssize_t col)
{
    if (col < 0 || col >= self->n_columns ||
        PyUnicode_Compare(name, PyTuple_GET_ITEM(self->columns, col)) != 0) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "a column's place among the columns is wrong");
        return -1;
    }
    return 0;
}

/* The columns of fit: str each. */
static int parse_names(Reader *self)
{
    self->n_columns = PyTuple_GET_SIZE(self->columns);
    self->names = PyMem_Calloc((size_t)self->n_columns + 1, sizeof(Name));
    if (self->names == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t k = 0; k < self->n_columns; k++) {
        PyObject *name = PyTuple_GET_ITEM(self->columns, k);
        if (!PyUnicode_CheckExact(name)) {
            PyErr_SetString(PyExc_TypeError, "column names must be str");
            return -1;
        }
        self->names[k].kind = PyUnicode_KIND(name);
        self->names[k].size = PyUnicode_GET_LENGTH(name) * self->names[k].kind;
        self->names[k].data = PyUnicode_DATA(name);
    }
    return 0;
}

static int parse_columns(Reader *self, PyObject *simple, PyObject *dates)
{
    if (parse_names(self) < 0)
        return -1;
    self->n_simple = PyTuple_GET_SIZE(simple);
    self->n_dates = PyTuple_GET_SIZE(dates);
    self->simple = PyMem_Calloc((size_t)self->n_simple + 1, sizeof(Simple));
    self->dates = PyMem_Calloc((size_t)self->n_dates + 1, sizeof(DateColumn));
    if (self->simple == NULL || self->dates == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < self->n_simple; i++) {
        Simple *c = &self->simple[i];
        if (parse_simple(PyTuple_GET_ITEM(simple, i), c) < 0)
            return -1;
        if (c->j < 0 || c->j >= self->width) {
            PyErr_SetString(PyExc_ValueError, "feature position out of range");
            return -1;
        }
        if (check_place(self, c->name, c->col) < 0)
            return -1;
    }
    for (Py_ssize_t i = 0; i < self->n_dates; i++) {
        DateColumn *c = &self->dates[i];
        if (parse_date(PyTuple_GET_ITEM(dates, i), c, self->width) < 0 ||
            check_place(self, c->name, c->col) < 0)
            return -1;
    }
    return 0;
}

/* Reader(width, simple, dates, columns, dropped, category, empty): see
 * records.compiled_reader. */
int tdr_reader_init(Reader *self, PyObject *args, PyObject *kwds)
{
    PyObject *simple, *dates, *dropped, *category, *empty;
    if (kwds != NULL && PyDict_GET_SIZE(kwds) > 0) {
        PyErr_SetString(PyExc_TypeError, "Reader takes positional arguments");
        return -1;
    }
    if (self->spec != NULL) {
        PyErr_SetString(PyExc_TypeError, "Reader is built once");
        return -1;
    }
    if (!PyArg_ParseTuple(args, "nO!O!O!O!OO", &self->width, &PyTuple_Type, &simple,
                          &PyTuple_Type, &dates, &PyTuple_Type, &self->columns, &PyTuple_Type,
                          &dropped, &category, &empty))
        return -1;
    Py_INCREF(args);
    self->spec = args;
    self->dropped = dropped;
    self->n_dropped = PyTuple_GET_SIZE(dropped);
    self->category = category;
    self->empty = empty;
    self->vectorcall = tdr_reader_vectorcall;
    self->shape = PyLong_FromSsize_t(self->width);
    if (self->shape == NULL || self->width < 0)
        return -1;
    return parse_columns(self, simple, dates);
}

void tdr_reader_dealloc(Reader *self)
{
    for (Py_ssize_t i = 0; self->simple != NULL && i < self->n_simple; i++)
        PyMem_Free(self->simple[i].slots);
    PyMem_Free(self->simple);
    PyMem_Free(self->dates);
    PyMem_Free(self->names);
    Py_XDECREF(self->shape);
    Py_XDECREF(self->spare);
    Py_XDECREF(self->spec);
    Py_TYPE(self)->tp_free((PyObject *)self);
}
