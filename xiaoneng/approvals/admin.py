from django.contrib import admin

from .exchange.admin import register

register(admin.site)
