#include "reasons.h"

const reason reasons[REASON_COUNT] = {
#define REASON_ENTRY(name, code, status) [REASON_##name] = {code, status},
    REASON_CATALOGUE(REASON_ENTRY)
#undef REASON_ENTRY
};
