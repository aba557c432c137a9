// The router alone (target lastgood-router-dev), for development and bench/router.
#include "router/router.h"

int main(int argc, char** argv) { return lastgood::RouterMain(argc, argv); }
