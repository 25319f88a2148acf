"""A GS1-Conformant resolver for the Digital Link URIs of our batches, and the URI the label's QR
carries.

``/01/{gtin}[/22/{cpv}][/10/{lot}][/21/{serial}]`` under our host answers as GS1's resolver
standard says: the default link redirects (307) to the batch's consumer page, ``?linkType=``
picks another link, ``linkType=all`` or ``Accept: application/linkset+json`` gives every link
as an RFC 9264 linkset, and every answer has an RFC 8288 ``Link`` header. ``links`` says which
links a batch has, ``lookup`` finds the batch, ``views`` answers.
"""
