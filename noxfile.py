# -*- coding: utf-8 -*-
# Copyright (c) sshdoctor.connreset contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nox sessions antsibull-nox defines from antsibull-nox.toml (run by ./dev lint)."""

import antsibull_nox

antsibull_nox.load_antsibull_nox_toml()
