/*
 * param.c - the parameter table (see param.h).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "util/alloc.h"
#include "util/status.h"
#include "param.h"

int tfrs__params_add(tfrs__params *t, const char *name, size_t d0, size_t d1, float *w,
                     float *g, tfrs_embedding *emb, float l2)
{
    tfrs__param *p;
    size_t len = strlen(name), n = d0;

    if (len == 0 || len >= TFRS__PARAM_NAME_MAX)
        return tfrs__fail(TFRS_EINVAL, "parameter name '%s' is empty or too long", name);
    if (d0 == 0 || (d1 != 0 && tfrs__mul(d0, d1, &n) < 0))
        return tfrs__fail(TFRS_EINVAL, "parameter '%s': bad shape %zu x %zu", name, d0, d1);
    if (TFRS__GROW(t->p, t->cap, t->n + 1) < 0)
        return tfrs__fail(TFRS_ENOMEM, "parameter table: out of memory");
    p = &t->p[t->n++];
    memset(p, 0, sizeof(*p));
    memcpy(p->name, name, len + 1);
    p->ndim = d1 == 0 ? 1 : 2;
    p->shape[0] = d0;
    p->shape[1] = d1;
    p->n = n;
    p->w = w;
    p->g = g;
    p->emb = emb;
    p->l2 = l2;
    p->feature = SIZE_MAX;
    return TFRS_OK;
}

tfrs__param *tfrs__params_find(const tfrs__params *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->p[i].name, name) == 0)
            return &t->p[i];
    return NULL;
}

size_t tfrs__params_count(const tfrs__params *t)
{
    size_t n = 0;

    for (size_t i = 0; i < t->n; i++)
        n += t->p[i].n;
    return n;
}

void tfrs__params_clear(tfrs__params *t)
{
    for (size_t i = 0; i < t->n; i++) {
        tfrs__free(t->p[i].slot[0]);
        tfrs__free(t->p[i].slot[1]);
    }
    tfrs__free(t->p);
    t->p = NULL;
    t->n = t->cap = 0;
}
