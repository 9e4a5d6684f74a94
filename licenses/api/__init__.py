"""The installed program's API (DESIGN 6b): ``/api/v1/`` with Django REST framework.

``authentication`` (device tokens), ``throttles``, ``errors`` (every error is JSON with a stable
``code``), ``serializers``, ``views`` (thin: parse, call one service, answer) and ``urls``.
"""
