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

#endif /* SYNACCT_CONFIG_H */
