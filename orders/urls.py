from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("renew/", views.renew_entry, name="renew"),
    path("renew/mail/<str:token>/", views.renew_from_mail, name="renew_from_mail"),
    path("renew/<str:serial>/", views.choose, name="choose"),
    path("checkout/<str:number>/details/", views.details, name="details"),
    path("checkout/<str:number>/confirm/", views.confirm, name="confirm"),
    path("checkout/<str:number>/authenticate/", views.authenticate, name="authenticate"),
    path("checkout/<str:number>/complete/", views.complete, name="complete"),
    path("checkout/<str:number>/status.json", views.order_status, name="status"),
    path("orders/", views.order_list, name="list"),
    path("orders/<str:number>/", views.order_detail, name="detail"),
    path("account/cards/", views.saved_cards, name="cards"),
]
