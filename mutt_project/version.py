"""MUTT's release version: the image tag of a release, the Moogsoft User-Agent, the API schema."""

VERSION = "2.5.0"
