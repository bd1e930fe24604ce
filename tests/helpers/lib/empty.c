/* empty.c - a preload library that does nothing: what loading any preload
 * library costs (the loader's work, no constructor), the baseline `make
 * bench` holds the tracer's spawn and start-up rows against. */

/* one exported function, so that this is a shared object like any other */
int st_empty_preload(void)
{
    return 0;
}
