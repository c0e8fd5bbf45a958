// Boost.JSON compiled into the fuzz build (instrumented, like the code under test).
#include <boost/json/src.hpp>
