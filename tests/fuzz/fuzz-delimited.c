/*
 * fuzz-delimited.c - libFuzzer target for the delimited-text loader.
 *
 * Input: byte 0 chooses the options, byte 1 the float columns, the rest is
 * the text.
 *   byte 0, bits 0-2  delimiter: , TAB | ; space e . NUL (NUL is invalid)
 *           bit 3     skip bad lines
 *           bit 4     also ask for a float column that does not exist
 *   byte 1, bit k     header field k (k < 8) is a float column
 * Inputs shorter than 2 bytes are loaded with the default options.
 * A loaded dataset is checked, shuffled, sliced and adapted into vocabularies.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "fuzz.h"
#include "load_delimited.h"

#define MAX_FLOAT_COLUMNS 9

static const char delimiters[8] = { ',', '\t', '|', ';', ' ', 'e', '.', '\0' };

/* Names of the header fields picked by mask, as the loader will split them
 * (after a UTF-8 BOM, up to "\n" or "\r\n"). */
static size_t pick_float_columns(const char *s, size_t n, char delim, unsigned mask,
                                 char **names)
{
    const char *end, *nl, *start;
    size_t k = 0, count = 0;

    if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
        s += 3;
        n -= 3;
    }
    nl = memchr(s, '\n', n);
    end = nl != NULL ? nl : s + n;
    if (end > s && end[-1] == '\r')
        end--;
    for (start = s; k < 8; s++) {
        if (s == end || *s == delim) {
            if (mask & (1u << k)) {
                size_t len = (size_t)(s - start);
                names[count] = malloc(len + 1);
                FUZZ_CHECK(names[count] != NULL);
                memcpy(names[count], start, len);
                names[count++][len] = '\0';
            }
            k++;
            if (s == end)
                break;
            start = s + 1;
        }
    }
    return count;
}

static void exercise(const tfrs_dataset *ds, size_t lines)
{
    tfrs_dataset *copy = NULL, *slice = NULL;
    size_t n = tfrs_dataset_num_rows(ds);

    fuzz_check_dataset(ds, lines);
    for (size_t i = 0; i < tfrs_dataset_num_columns(ds); i++) {
        tfrs_vocab *v = NULL;
        const char *name;
        tfrs_column_type type;
        size_t ns;
        const uint32_t *ids;
        FUZZ_CHECK(tfrs_dataset_column_info(ds, i, &name, &type) == TFRS_OK);
        if (type != TFRS_COLUMN_STRING)
            continue;
        FUZZ_CHECK(tfrs_dataset_string_ids(ds, name, &ids, &ns) == TFRS_OK);
        FUZZ_CHECK(tfrs_vocab_adapt_column(&v, ds, name, NULL) == TFRS_OK);
        /* Every distinct value but the OOV token "[UNK]", which adapt leaves
         * out as Keras does. */
        {
            size_t oov = 0;
            for (uint32_t k = 0; k < ns; k++) {
                const char *value;
                FUZZ_CHECK(tfrs_dataset_string(ds, name, k, &value) == TFRS_OK);
                oov += strcmp(value, "[UNK]") == 0;
            }
            FUZZ_CHECK(oov <= 1 && tfrs_vocab_num_tokens(v) == ns - oov);
        }
        tfrs_vocab_free(v);
    }
    FUZZ_CHECK(tfrs_dataset_slice(&copy, ds, 0, n) == TFRS_OK);
    FUZZ_CHECK(tfrs_dataset_shuffle(copy, n) == TFRS_OK);
    FUZZ_CHECK(tfrs_dataset_slice(&slice, copy, 1, n) == TFRS_OK);
    FUZZ_CHECK(tfrs_dataset_num_rows(slice) == (n > 0 ? n - 1 : 0));
    fuzz_check_dataset(copy, lines);
    fuzz_check_dataset(slice, lines);
    tfrs_dataset_free(slice);
    tfrs_dataset_free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data + (size >= 2 ? 2 : 0);
    size_t len = size >= 2 ? size - 2 : size, nfloat = 0, lines = fuzz_max_lines(text, len);
    char *names[MAX_FLOAT_COLUMNS];
    tfrs_delimited_options o;
    tfrs_dataset *ds = NULL;
    int rc;

    FUZZ_CHECK(tfrs_delimited_options_init(&o, TFRS_DELIMITED_OPTIONS_VERSION) == TFRS_OK);
    if (size >= 2) {
        o.delimiter = delimiters[data[0] & 7];
        o.load.skip_bad_lines = (data[0] >> 3) & 1;
        nfloat = pick_float_columns(text, len, o.delimiter, data[1], names);
        if (data[0] & 0x10) {
            names[nfloat] = malloc(sizeof("no such column"));
            FUZZ_CHECK(names[nfloat] != NULL);
            memcpy(names[nfloat++], "no such column", sizeof("no such column"));
        }
        o.float_columns = (const char *const *)names;
        o.num_float_columns = nfloat;
    }
    rc = tfrs__load_delimited_buffer(&ds, text, len, "fuzz.csv", &o);
    if (rc == TFRS_OK) {
        if (!o.load.skip_bad_lines)
            FUZZ_CHECK(o.load.bad_lines == 0);
        FUZZ_CHECK(tfrs_dataset_num_rows(ds) + o.load.bad_lines < lines);
        exercise(ds, lines);
    } else {
        FUZZ_CHECK(ds == NULL);
        if (rc == TFRS_EPARSE)
            fuzz_check_parse_error("fuzz.csv");
        else if (rc == TFRS_EINVAL)
            FUZZ_CHECK(o.delimiter == '\0');
        else
            FUZZ_CHECK(rc == TFRS_ENOTFOUND && nfloat > 0);
    }
    tfrs_dataset_free(ds);
    for (size_t i = 0; i < nfloat; i++)
        free(names[i]);
    return 0;
}
