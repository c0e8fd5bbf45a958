// The one translation unit that compiles Beast's non-template code
// (BOOST_BEAST_SEPARATE_COMPILATION is defined for the whole library target).
#include <boost/beast/src.hpp>
