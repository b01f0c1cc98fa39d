/* wrap-dl.c - dlclose: a library unloaded is forgotten, so one loaded at
 * its address later is recorded (and symbolized) as itself. */
#include "real.h"
#include "recorder.h"

SHIM_EXPORT int dlclose(void *handle)
{
	REAL_OR(dlclose, -1);
	int ret = real_dlclose(handle);
	if (ret == 0)
		rec_forget_modules();
	return ret;
}
