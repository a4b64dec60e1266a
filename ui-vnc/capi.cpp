// C ABI entry points (filled in with the server).
