// A plain C++ source of the target the translated sources are added to.
int library_host() { return 1; }
