// ABI check: the public headers are valid C++ (extern "C", no C-only syntax).
#include "qvnc.h"

#include <cstring>
#include <type_traits>

static_assert(std::is_same_v<decltype(&qvnc_version), const char *(*)()>);
static_assert(std::is_standard_layout_v<qvnc_surface> && std::is_trivial_v<qvnc_surface>);
static_assert(std::is_standard_layout_v<qvnc_display_ops> && std::is_trivial_v<qvnc_display_ops>);

int main()
{
    const char *v = qvnc_version();
    return v && std::strlen(v) > 0 ? 0 : 1;
}
