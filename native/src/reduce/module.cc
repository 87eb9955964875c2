// The reduce kernel family as one Node-API module; its kernels register themselves (common.h).
#include "common.h"

UNET_MODULE(reduce)
