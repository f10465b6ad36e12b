"""Go's crypto/tls: find Go executables, the functions to probe and the fd chain offsets.

Pure Python (ELF, pclntab, capstone, DWARF); ``hooks`` places the uprobes through the
loader's BPF program.
"""
