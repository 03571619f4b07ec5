// Plain C++: copied through unchanged.
int host_value() { return 42; }
