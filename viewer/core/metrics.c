/*
 * metrics.c - the audit summed into gauges (see metrics.h).
 */
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "util.h"

static struct metrics_owner *owner_of(struct metrics *mt, size_t *cap,
				      bool known, uint32_t uid,
				      enum audit_kind kind)
{
	for (size_t i = 0; i < mt->nowners; i++) {
		struct metrics_owner *o = &mt->owners[i];

		if (o->known == known && o->uid == uid && o->kind == kind)
			return o;
	}
	XGROW(mt->owners, mt->nowners, *cap, 8);
	mt->owners[mt->nowners] = (struct metrics_owner){ uid, known, kind,
							  { 0, 0 } };
	return &mt->owners[mt->nowners++];
}

static int owner_cmp(const void *x, const void *y)
{
	const struct metrics_owner *a = x, *b = y;

	if (a->known != b->known)
		return a->known ? -1 : 1;
	if (a->uid != b->uid)
		return a->uid < b->uid ? -1 : 1;
	return (int)a->kind - (int)b->kind;
}

void metrics_build(struct metrics *mt, const struct audit *a,
		   const struct capacity_now *c)
{
	size_t cap = 0;

	memset(mt->cells, 0, sizeof(mt->cells));
	mt->audit = a;
	mt->capacity = c;
	mt->owners = NULL;
	mt->nowners = 0;
	for (size_t i = 0; i < a->nobjs; i++) {
		const struct audit_obj *o = &a->objs[i];
		enum audit_kind kind = audit_kind_of(o);
		struct metrics_cell *cell = &mt->cells[kind][audit_verdict(o)];
		uint32_t uid = 0;
		bool known = audit_owner(o, &uid);
		struct metrics_owner *own = owner_of(mt, &cap, known, uid, kind);

		cell->objects++;
		cell->bytes += o->size;
		own->cell.objects++;
		own->cell.bytes += o->size;
	}
	if (mt->nowners)
		qsort(mt->owners, mt->nowners, sizeof(*mt->owners), owner_cmp);
}

void metrics_free(struct metrics *mt)
{
	free(mt->owners);
	mt->owners = NULL;
	mt->nowners = 0;
}
