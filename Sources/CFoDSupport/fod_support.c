/* Everything is inline in fod_support.h; SwiftPM needs one source file for a C target. */
#include "fod_support.h"
