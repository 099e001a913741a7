// cpuattn: fast attention on CPUs. One include for the whole C++ API.
#pragma once

#include "cpuattn/attention.hpp"
#include "cpuattn/context.hpp"
#include "cpuattn/matmul.hpp"
#include "cpuattn/mha.hpp"
#include "cpuattn/softmax.hpp"
#include "cpuattn/status.hpp"
#include "cpuattn/tensor.hpp"
#include "cpuattn/tuning.hpp"
