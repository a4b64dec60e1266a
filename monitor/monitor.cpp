// HMP/QMP monitor: see issue "ACL subsystem and QEMU monitors"; nothing here yet.
namespace qvnc::monitor {}
