/* utf8_valid (csrc/utf8.c), which guards cookie plaintexts and JWT strings, against a reference that
   decodes code points and then applies RFC 3629's rules (shortest form, no surrogates, at most U+10FFFF). */
#include <stdint.h>

#include "fuzz_common.h"
#include "utf8.h"

static int reference_valid(const unsigned char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 2;
            cp = c & 0x1F;
            min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            n = 3;
            cp = c & 0x0F;
            min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            n = 4;
            cp = c & 0x07;
            min = 0x10000;
        } else
            return 0;
        if (len - i < n) return 0;
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += n;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    unsigned char *copy = (unsigned char *)exact_copy(data, size);
    CHECK(utf8_valid(copy, size) == reference_valid(copy, size));
    free(copy);
    return 0;
}
