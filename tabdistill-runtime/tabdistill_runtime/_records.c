/* A record {"column": value} encoded into a row in C: the compiled half of records.py.
 *
 * A Reader is built once per feature schema (records.compiled_reader) and reads a record as
 * records.read_record does, with the rules of _rawvalues.h: numbers (Python floats and ints,
 * text in the column's number format), categories (one lookup in the schema's level table;
 * a value the table lacks goes to a Python function), dates (text in the column's layout, Unix
 * times as numbers or text). It gives up -- returns None, and the caller reads the record in
 * Python -- on anything that would need a warning, an error or a value it does not read
 * itself: a stray, a time-zone mismatch, an absent column (unless allow_missing), an unknown
 * key, another type of value. So a row it returns is the row Python computes, to the bit, and
 * everything else is Python's to say. The Reader is built in _records_new.c (_records.h:
 * what both files share).
 */
#include "_records.h"

/* ---- reading one value: 1 read, 0 give up (no exception left set) */

static int give_up(void)
{
    PyErr_Clear();
    return 0;
}

static int read_number(const Simple *c, PyObject *v, double *out)
{
    double x;
    if (PyFloat_Check(v)) {
        x = PyFloat_AS_DOUBLE(v);
    } else if (PyLong_CheckExact(v) || PyBool_Check(v)) {
        x = PyLong_AsDouble(v);
        if (x == -1.0 && PyErr_Occurred())
            return give_up(); /* beyond float64: Python says so */
    } else if (PyUnicode_CheckExact(v)) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(v, &n);
        if (s == NULL || tdr_read_number(s, (size_t)n, &c->format, &x) == TDR_STRAY)
            return give_up();
    } else {
        return 0;
    }
    if (x - x == 0)
        *out = x;
    else /* NaN stays NaN; +/-inf is the fitted extreme */
        *out = x != x ? x : (x > 0 ? c->upper : c->lower);
    return 1;
}

/* A value the level table lacks, read by records._category in Python. */
static int ask_python(const Reader *r, const Simple *c, PyObject *v, double *out)
{
    PyObject *args[4] = {c->name, v, c->levels, c->unseen};
    PyObject *code = PyObject_Vectorcall(r->category, args, 4, NULL);
    if (code == NULL)
        return give_up();
    *out = PyFloat_AsDouble(code);
    Py_DECREF(code);
    return !(*out == -1.0 && PyErr_Occurred()) || give_up();
}

/* Text no level has: unseen, unless it reads as a number or a boolean (levels.level_key
 * then compares another text): Python reads those. */
static int unseen_text(const Reader *r, const Simple *c, PyObject *v, double *out)
{
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(v, &n);
    if (s == NULL)
        return give_up();
    if (!tdr_number_text(s, (size_t)n) && tdr_bool_text(s, (size_t)n) < 0) {
        *out = PyFloat_AS_DOUBLE(c->unseen);
        return 1;
    }
    return ask_python(r, c, v, out);
}

/* Whether n bytes at a and b are equal: words, the last one overlapping, few branches. */
static inline int same_bytes(const char *a, const char *b, Py_ssize_t n)
{
    uint64_t x, y;
    uint32_t u, v;
    for (; n >= 8; a += 8, b += 8, n -= 8) {
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y)
            return 0;
    }
    if (n >= 4) {
        memcpy(&u, a, 4);
        memcpy(&v, b, 4);
        if (u != v)
            return 0;
        memcpy(&u, a + n - 4, 4);
        memcpy(&v, b + n - 4, 4);
        return u == v;
    }
    return n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1]);
}

/* The code of text v among the text levels: 1 found, 0 not. What the level table (a dict)
 * finds for a str: the str key of equal characters (equal strings have one kind). */
static int find_text(const Simple *c, PyObject *v, double *out)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(v);
    int kind = PyUnicode_KIND(v);
    const char *data = PyUnicode_DATA(v);
    uint64_t h = text_hash(data, n * kind);
    for (size_t i = (size_t)h & c->mask;; i = (i + 1) & c->mask) {
        const Slot *s = &c->slots[i];
        if (s->data == NULL)
            return 0;
        if (s->hash == h && s->length == n && s->kind == kind &&
            same_bytes(s->data, data, n * kind)) {
            *out = s->code;
            return 1;
        }
    }
}

static int read_category(const Reader *r, const Simple *c, PyObject *v, double *out)
{
    if (PyUnicode_CheckExact(v)) {
        return find_text(c, v, out) || unseen_text(r, c, v, out);
    }
    PyObject *code = PyDict_GetItemWithError(c->levels, v);
    if (code != NULL) {
        *out = PyFloat_AsDouble(code);
        return !(*out == -1.0 && PyErr_Occurred()) || give_up();
    }
    if (PyErr_Occurred())
        return give_up(); /* unhashable */
    return ask_python(r, c, v, out);
}

static void fill_nan(const DateColumn *c, double *row)
{
    for (int k = 0; k < c->n_parts; k++)
        row[c->pos[k]] = tdr_nan();
}

/* A date column's value: text in its layout, a Unix time as a number, None or NaN. */
static int read_date(const DateColumn *c, PyObject *v, double *row)
{
    int64_t us = 0;
    int zoned = 0, status;
    double parts[TDR_N_PARTS];
    if (v == Py_None) {
        status = TDR_MISSING;
    } else if (PyUnicode_CheckExact(v)) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(v, &n);
        if (s == NULL)
            return give_up();
        status = tdr_read_date_text(s, (size_t)n, c->layout, c->pattern, &us, &zoned);
    } else if (PyFloat_CheckExact(v) || PyLong_CheckExact(v)) {
        double x = PyFloat_CheckExact(v) ? PyFloat_AS_DOUBLE(v) : PyLong_AsDouble(v);
        if (x == -1.0 && PyErr_Occurred())
            return give_up();
        if (x != x)
            status = TDR_MISSING;
        else if (c->layout != TDR_UNIX_S && c->layout != TDR_UNIX_MS)
            return 0; /* a number in a text layout: a stray */
        else {
            status = tdr_unix_us(x * (c->layout == TDR_UNIX_MS ? 1e-3 : 1.0), &us);
            zoned = 1;
        }
    } else {
        return 0;
    }
    if (status == TDR_STRAY)
        return 0;
    if (status == TDR_MISSING) {
        fill_nan(c, row);
        return 1;
    }
    if (c->tz != TZ_ANY && zoned != (c->tz == TZ_AWARE))
        return 0; /* a time-zone mismatch: Python says so */
    if (!tdr_date_parts(us, parts))
        return 0;
    for (int k = 0; k < c->n_parts; k++)
        row[c->pos[k]] = parts[c->part[k]];
    return 1;
}

/* ---- one record */

/* Whether every key of the record that is no column read here was dropped at fit. */
static int only_dropped(const Reader *r, PyObject *record, Py_ssize_t found)
{
    Py_ssize_t extra = PyDict_GET_SIZE(record) - found;
    for (Py_ssize_t i = 0; i < r->n_dropped && extra > 0; i++) {
        PyObject *hit = PyDict_GetItemWithError(record, PyTuple_GET_ITEM(r->dropped, i));
        if (hit == NULL && PyErr_Occurred())
            return give_up();
        extra -= hit != NULL;
    }
    return extra == 0;
}

#define MAX_WALK 512

/* Whether key is the text of name (a column's). */
static inline int same_text(PyObject *key, const Name *name)
{
    if (!PyUnicode_CheckExact(key))
        return 0;
    int kind = PyUnicode_KIND(key);
    return PyUnicode_GET_LENGTH(key) * kind == name->size && kind == name->kind &&
           same_bytes(PyUnicode_DATA(key), name->data, name->size);
}

/* The record's values in vals, when its keys are the columns of fit in their order (a
 * record written from the training table's rows): one pass, no hashing. Else 0. */
static int walk(const Reader *r, PyObject *record, PyObject **vals)
{
    Py_ssize_t pos = 0, k = 0;
    PyObject *key, *value;
    if (r->n_columns > MAX_WALK || PyDict_GET_SIZE(record) != r->n_columns)
        return 0;
    while (PyDict_Next(record, &pos, &key, &value)) {
        if (key != PyTuple_GET_ITEM(r->columns, k) && !same_text(key, &r->names[k]))
            return 0;
        vals[k++] = value;
    }
    return 1;
}

/* The value of column `name` (place `col`): from the walk, or looked up. NULL if absent
 * (check PyErr_Occurred). */
static PyObject *value_of(PyObject *record, PyObject *const *vals, PyObject *name,
                          Py_ssize_t col)
{
    return vals != NULL ? vals[col] : PyDict_GetItemWithError(record, name);
}

/* Encode record into row: 1, or 0 to leave the record to Python. */
static int encode(const Reader *r, PyObject *record, int allow_missing, double *row)
{
    Py_ssize_t found = 0;
    PyObject *walked[MAX_WALK];
    PyObject **vals = walk(r, record, walked) ? walked : NULL;
    for (Py_ssize_t i = 0; i < r->n_simple; i++) {
        const Simple *c = &r->simple[i];
        PyObject *v = value_of(record, vals, c->name, c->col);
        if (v == NULL) {
            if (PyErr_Occurred() || (c->first && !allow_missing))
                return give_up();
            row[c->j] = tdr_nan();
            continue;
        }
        found += c->first;
        if (v == Py_None)
            row[c->j] = tdr_nan();
        else if (!(c->levels == NULL ? read_number(c, v, &row[c->j])
                                     : read_category(r, c, v, &row[c->j])))
            return 0;
    }
    for (Py_ssize_t i = 0; i < r->n_dates; i++) {
        const DateColumn *c = &r->dates[i];
        PyObject *v = value_of(record, vals, c->name, c->col);
        if (v == NULL) {
            if (PyErr_Occurred() || !allow_missing)
                return give_up();
            fill_nan(c, row);
            continue;
        }
        found++;
        if (!read_date(c, v, row))
            return 0;
    }
    return vals != NULL || found == PyDict_GET_SIZE(record) || only_dropped(r, record, found);
}

/* A row to encode into (a new reference, its buffer in view): the spare row when nobody
 * else holds it any more (the caller dropped the last one returned), else a new one, kept as
 * the next spare. Holding the GIL, a row only the reader references is the reader's. */
static PyObject *new_row(Reader *r, Py_buffer *view)
{
    const int flags = PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE;
    PyObject *row = r->spare, *shape = r->shape;
    if (row != NULL && Py_REFCNT(row) == 1) {
        if (PyObject_GetBuffer(row, view, flags) == 0) {
            Py_INCREF(row);
            return row;
        }
        PyErr_Clear(); /* made read-only by its last holder: a new one */
    }
    row = PyObject_Vectorcall(r->empty, &shape, 1, NULL);
    if (row == NULL)
        return NULL;
    if (PyObject_GetBuffer(row, view, flags) < 0) {
        Py_DECREF(row);
        return NULL;
    }
    Py_INCREF(row);
    Py_XSETREF(r->spare, row);
    return row;
}

/* reader(record, allow_missing) -> the encoded row (float64 array), or None: ask Python. */
PyObject *tdr_reader_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf,
                                PyObject *kwnames)
{
    Reader *self = (Reader *)callable;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    int allow_missing = 0;
    Py_buffer view;
    if ((kwnames != NULL && PyTuple_GET_SIZE(kwnames) > 0) || nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "reader(record, allow_missing)");
        return NULL;
    }
    if (nargs == 2 && (allow_missing = PyObject_IsTrue(args[1])) < 0)
        return NULL;
    PyObject *record = args[0];
    if (!PyDict_CheckExact(record))
        Py_RETURN_NONE; /* a mapping of another kind: Python reads it */
    PyObject *row = new_row(self, &view);
    if (row == NULL)
        return NULL;
    int ok = encode(self, record, allow_missing, (double *)view.buf);
    PyBuffer_Release(&view);
    if (!ok) {
        Py_DECREF(row);
        Py_RETURN_NONE;
    }
    return row;
}

/* reader.many(records, out, allow_missing) -> indices of the records left to Python; the
 * others are encoded into the rows of out (n x width float64). */
static PyObject *Reader_many(Reader *self, PyObject *args)
{
    PyObject *records, *out, *left;
    int allow_missing = 0;
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "O!O|p", &PyList_Type, &records, &out, &allow_missing))
        return NULL;
    if (PyObject_GetBuffer(out, &view, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0)
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(records);
    if (view.len != (Py_ssize_t)(n * self->width * sizeof(double)) || view.itemsize != 8) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "out must be len(records) x width float64");
        return NULL;
    }
    left = PyList_New(0);
    for (Py_ssize_t i = 0; left != NULL && i < n; i++) {
        PyObject *record = PyList_GET_ITEM(records, i);
        double *row = (double *)view.buf + i * self->width;
        if (PyDict_CheckExact(record) && encode(self, record, allow_missing, row))
            continue;
        PyObject *index = PyLong_FromSsize_t(i);
        if (index == NULL || PyList_Append(left, index) < 0)
            Py_CLEAR(left);
        Py_XDECREF(index);
    }
    PyBuffer_Release(&view);
    return left;
}

/* What a date text reads as, for tests: (status, microseconds since 1970 UTC, zoned). */
static PyObject *read_date_text(PyObject *mod, PyObject *args)
{
    const char *s, *pattern;
    Py_ssize_t n, n_pattern;
    int layout, zoned = 0;
    int64_t us = 0;
    (void)mod;
    if (!PyArg_ParseTuple(args, "s#is#", &s, &n, &layout, &pattern, &n_pattern))
        return NULL;
    int status = tdr_read_date_text(s, (size_t)n, layout, pattern, &us, &zoned);
    return Py_BuildValue("iLi", status, (long long)us, zoned);
}

/* What a Unix time in seconds reads as, for tests: (status, microseconds). */
static PyObject *unix_us(PyObject *mod, PyObject *arg)
{
    int64_t us = 0;
    (void)mod;
    double x = PyFloat_AsDouble(arg);
    if (x == -1.0 && PyErr_Occurred())
        return NULL;
    int status = tdr_unix_us(x, &us);
    return Py_BuildValue("iL", status, (long long)us);
}

static PyMethodDef Reader_methods[] = {
    {"many", (PyCFunction)Reader_many, METH_VARARGS,
     "many(records, out, allow_missing): encode a list of records; indices left to Python."},
    {NULL, NULL, 0, NULL}};

static PyTypeObject ReaderType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "tabdistill_runtime._records.Reader",
    .tp_basicsize = sizeof(Reader),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_vectorcall_offset = offsetof(Reader, vectorcall),
    .tp_doc = "Records of one feature schema encoded in C (None: ask Python).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)tdr_reader_init,
    .tp_dealloc = (destructor)tdr_reader_dealloc,
    .tp_call = PyVectorcall_Call,
    .tp_methods = Reader_methods,
};

static PyMethodDef module_methods[] = {
    {"read_date_text", read_date_text, METH_VARARGS,
     "read_date_text(text, layout, pattern) -> (status, us, zoned)."},
    {"unix_us", unix_us, METH_O, "unix_us(seconds) -> (status, us)."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_records",
    .m_doc = "Records encoded in C, as records.read_record encodes them.",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__records(void)
{
    if (PyType_Ready(&ReaderType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&moduledef);
    if (m == NULL)
        return NULL;
    Py_INCREF(&ReaderType);
    if (PyModule_AddObject(m, "Reader", (PyObject *)&ReaderType) < 0) {
        Py_DECREF(&ReaderType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
