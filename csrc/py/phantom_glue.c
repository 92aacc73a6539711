#include "phantom_glue.h"

#include "python_api.h"

/* Wrappers rather than casts: calling through a function pointer of another type is undefined. */
static void *save_thread(void) { return PyEval_SaveThread(); }

static void restore_thread(void *state) { PyEval_RestoreThread((PyThreadState *)state); }

const phantom_lock_hooks phantom_gil = {save_thread, restore_thread};
