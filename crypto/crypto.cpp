// Process-wide library initialisation lives with the context; this module
// starts with the pieces listed in meson.build.
namespace qvnc::crypto {}
