/* nelem.h: the number of elements of an array (not a pointer). */
#ifndef DS_NELEM_H
#define DS_NELEM_H

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#endif
