#include "fod_vehicle.h"

/* libfodvehicle is Swift behind @_cdecl entry points (Sources/FoDVehicleABI) that this header
 * declares; this file only pins the layout the Swift side writes into. */
_Static_assert(sizeof(fod_status) == 256, "fod_status is 256 bytes: code[40] then detail[216]");
_Static_assert(sizeof(((fod_status *)0)->code) == 40, "fod_status.code is 40 bytes");
