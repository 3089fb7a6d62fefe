/* SPDX-License-Identifier: GPL-2.0 */
/*
 * config.h - --config FILE: an INI file whose keys are the long options
 * (iface = eth0, json = yes, metrics = 127.0.0.1:19464), each fed through
 * the same argp parsers as the command line, which overrides it.
 */
#ifndef SYNACCT_CONFIG_H
#define SYNACCT_CONFIG_H

#include <argp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The argp child with --config; its input is unused. */
extern const struct argp sa_config_argp;

/* True while a config entry is checked on its own: a command's
 * ARGP_KEY_END skips the checks that need the whole command line. */
extern bool sa_config_checking;

/*
 * If @argv has --config FILE, read FILE and replace *@argv by one with
 * the file's options first and the command line's after, leaving out
 * every key the command line gives (so it overrides).  @root is the
 * command's argp, @input_size the size of its input struct (each entry
 * is checked alone into a scratch one).  0, or the exit status after a
 * one-line error naming FILE:LINE.
 */
int sa_config_load(const struct argp *root, size_t input_size, int *argc, char ***argv);

/* The --config FILE loaded, or NULL. */
const char *sa_config_file(void);

/*
 * SIGHUP: read the --config file again and, if it is valid and every key
 * that changed is among @runtime (NULL-terminated names: the options the
 * caller applies while running), parse the whole command into @input
 * (zeroed, with the defaults the command sets before parsing): 0, with
 * the keys that changed in @changed ("" none).  Otherwise one line on
 * stderr saying why (a FILE:LINE error, or which keys need a restart)
 * and -errno: the caller keeps its running configuration.
 */
int sa_config_reload(void *input, const char *const *runtime, char *changed, size_t len);

#endif /* SYNACCT_CONFIG_H */
