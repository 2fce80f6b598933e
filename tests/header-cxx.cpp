/*
 * header-cxx.cpp - tfrsc.h must compile as C++ (-pedantic -Werror) and give
 * its declarations C linkage.  Built, never run; not linked against the
 * library, so it only touches types, enums and macros.
 *
 * Copyright 2026 The libtfrsc Authors.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "tfrsc.h"

#if TFRS_VERSION_NUMBER != \
    (TFRS_VERSION_MAJOR * 10000 + TFRS_VERSION_MINOR * 100 + TFRS_VERSION_PATCH)
#error "TFRS_VERSION_NUMBER disagrees with its parts"
#endif

static_assert(TFRS_OK == 0, "TFRS_OK is zero");
static_assert(TFRS_ECANCELED == -13, "status values are stable");
static_assert(sizeof(tfrs_scored) >= sizeof(size_t) + sizeof(float), "tfrs_scored layout");

int main()
{
    tfrs_vocab_options vo;
    tfrs_fit_options fo;
    tfrs_metrics m;
    tfrs_activation act = TFRS_ACT_RELU;
    tfrs_optimizer_kind kind = TFRS_OPT_ADAM;
    int (*fn)(tfrs_model **, uint64_t) = nullptr;
    const char *version = TFRS_VERSION_STRING;
    unsigned flags = TFRS_SAVE_OPTIMIZER;

    /* Field by field, so that fields appended later need no change here. */
    vo.version = TFRS_VOCAB_OPTIONS_VERSION;
    vo.num_oov_indices = 1;
    vo.mask_token = nullptr;
    fo.version = TFRS_FIT_OPTIONS_VERSION;
    fo.epochs = 3;
    fo.batch_size = 8192;
    fo.progress = nullptr;
    m.metrics = TFRS_METRIC_RMSE;

    (void)vo;
    (void)fo;
    (void)fn;
    return static_cast<int>((TFRS_VERSION_NUMBER + m.metrics + static_cast<unsigned>(act) +
                             static_cast<unsigned>(kind) + flags +
                             static_cast<unsigned>(version[0] == '0')) & 0u);
}
