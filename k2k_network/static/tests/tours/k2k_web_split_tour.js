/** @odoo-module **/

import { registry } from "@web/core/registry";
import * as tourUtils from "@website_sale/js/tours/tour_utils";

// A visitor buys a K2K product in the web shop and pays: the order is
// confirmed and its purchase need goes to the K2K vendor.
registry.category("web_tour.tours").add("k2k_network_web_split", {
    url: "/shop",
    steps: () => [
        ...tourUtils.searchProduct("K2K Tour Rose", { select: true }),
        {
            content: "Add the K2K rose to the cart",
            trigger: '#product_detail form[action^="/shop/cart/update"] #add_to_cart',
            run: "click",
        },
        tourUtils.goToCart(),
        tourUtils.goToCheckout(),
        ...tourUtils.fillAdressForm(undefined, true),
        tourUtils.confirmOrder(),
        ...tourUtils.payWithDemo(),
    ],
});
