/* banned.h - functions we never call: unbounded copies and non-reentrant time (git banned.h). */
#ifndef SL_BANNED_H
#define SL_BANNED_H
#define SL_BANNED(func) sorry_##func##_is_a_banned_function
#undef strcpy
#define strcpy(x, y) SL_BANNED(strcpy)
#undef strcat
#define strcat(x, y) SL_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) SL_BANNED(strncpy)
#undef sprintf
#define sprintf(...) SL_BANNED(sprintf)
#undef strtok
#define strtok(x, y) SL_BANNED(strtok)
#undef gmtime
#define gmtime(t) SL_BANNED(gmtime)
#undef localtime
#define localtime(t) SL_BANNED(localtime)
#endif
