// What a service file includes (tests/headers/user_surface.py lists its headers).
#include <tomodachi/tomodachi.hpp>
